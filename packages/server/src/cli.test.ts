import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { delay, eventually, readBody } from '@jobtracker/test-support/server';
import { readListening } from '@jobtracker/test-support/server-process';
import { DEFAULT_DB } from './app/tracker.js';
import { readConfig } from './config/config.js';

const cli = fileURLToPath(new URL('./cli.ts', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'jobtracker-cli-'));
const children = new Set<ChildProcess>();
after(() => {
  for (const child of children) child.kill('SIGKILL');
  rmSync(dir, { recursive: true, force: true });
});

/** Starts the CLI on a free port and resolves with its URL once it listens. */
function startCli(args: string[], env: Record<string, string> = {}) {
  const child = spawn(process.execPath, ['--import', 'tsx', cli, '--port', '0', ...args], {
    env: { ...process.env, JOBTRACKER_SECRET: '', JOBTRACKER_WORKER_KEY: '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.add(child);
  child.once('exit', () => children.delete(child));
  return { child, ...readListening(child, 'CLI') };
}

const json = async (url: string, init?: RequestInit) => readBody(await fetch(url, init));

describe('jobtracker-server CLI', () => {
  it('recovers a job after the server is killed with SIGKILL mid-job and restarted', async () => {
    const db = `file:${join(dir, 'crash.db')}`;
    const first = startCli(['--demo', '--db', db, '--lease-ms', '1500']);
    const base = await first.url;
    assert.equal(first.output().match(/DEV MODE/g)?.length, 1, 'with no secret set, one dev-mode banner');
    const { job } = await json(`${base}/api/jobs`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ type: 'demo.generate', title: 'Crash test', input: { durationMs: 2500 } }),
    });
    await eventually(
      async () => ((await json(`${base}/api/jobs/${job.id}`)).job.progress ?? 0) >= 20,
      10_000,
      'progress',
    );
    first.child.kill('SIGKILL');
    await new Promise((resolve) => first.child.once('exit', resolve));

    const second = startCli(['--demo', '--db', db, '--lease-ms', '1500']);
    const again = await second.url;
    const after = await json(`${again}/api/jobs/${job.id}`);
    assert.ok(
      ['running', 'pending'].includes(after.job.status),
      `the job survived the crash (${after.job.status})`,
    );
    const done = await eventually(
      async () => {
        const current = (await json(`${again}/api/jobs/${job.id}`)).job;
        return current.status === 'completed' ? current : null;
      },
      20_000,
      'the recovered job to complete',
    );
    assert.equal(done.attempt, 2);
    assert.equal(done.result.url, `/programs/${job.id}`);
    second.child.kill('SIGTERM');
    const code = await new Promise((resolve) => second.child.once('exit', resolve));
    assert.equal(code, 0, 'SIGTERM closes cleanly');
  });

  it('refuses bad flags with a usage message', async () => {
    const bad = startCli(['--port', 'abc']);
    await assert.rejects(bad.url, /exited with 2/);
    assert.match(bad.output(), /Usage: jobtracker-server/);
    await delay(10);
  });
});

describe('readConfig (the CLI’s settings)', () => {
  const defaults = {
    help: false,
    port: 8787,
    hostname: '127.0.0.1',
    db: DEFAULT_DB,
    secret: undefined,
    issuer: undefined,
    audience: undefined,
    devMode: true,
    workerKey: undefined,
    corsOrigins: [],
    demo: false,
    runner: { leaseMs: 15_000 },
  };
  const env = {
    PORT: '9100',
    HOST: '0.0.0.0',
    JOBTRACKER_DB: 'file:/var/lib/jobtracker/env.db',
    JOBTRACKER_SECRET: 'env-secret',
    JOBTRACKER_ISSUER: 'https://env-idp.example',
    JOBTRACKER_AUDIENCE: 'env-audience',
    JOBTRACKER_WORKER_KEY: 'env-worker-key',
    JOBTRACKER_CORS_ORIGINS: 'https://app.example, https://admin.example ,',
    JOBTRACKER_LEASE_MS: '5000',
    JOBTRACKER_DEMO: '1',
  };

  it('uses the defaults when nothing is set', () => {
    assert.deepEqual(readConfig([], {}), defaults);
  });

  it('reads every setting from the environment', () => {
    assert.deepEqual(readConfig([], env), {
      help: false,
      port: 9100,
      hostname: '0.0.0.0',
      db: 'file:/var/lib/jobtracker/env.db',
      secret: ['env-secret'],
      issuer: 'https://env-idp.example',
      audience: 'env-audience',
      devMode: false,
      workerKey: 'env-worker-key',
      corsOrigins: ['https://app.example', 'https://admin.example'],
      demo: true,
      runner: { leaseMs: 5000 },
    });
  });

  it('lets each flag win over its environment variable', () => {
    const flags = [
      ['--port', '9200'],
      ['--host', '::1'],
      ['--db', ':memory:'],
      ['--secret', 'flag-secret'],
      ['--issuer', 'https://flag-idp.example'],
      ['--audience', 'flag-audience'],
      ['--worker-key', 'flag-worker-key'],
      ['--cors-origins', 'https://flag.example'],
      ['--lease-ms', '2000'],
    ].flat();
    assert.deepEqual(readConfig(flags, env), {
      help: false,
      port: 9200,
      hostname: '::1',
      db: ':memory:',
      secret: ['flag-secret'],
      issuer: 'https://flag-idp.example',
      audience: 'flag-audience',
      devMode: false,
      workerKey: 'flag-worker-key',
      corsOrigins: ['https://flag.example'],
      demo: true,
      runner: { leaseMs: 2000 },
    });
    assert.equal(readConfig(['--port=0'], env).port, 0, '0 (a free port) from a flag beats PORT');
  });

  it('treats an empty variable as unset, so HOST= keeps the server on loopback', () => {
    const empty = Object.fromEntries(Object.keys(env).map((name) => [name, '']));
    assert.deepEqual(readConfig([], empty), defaults);
  });

  it('reads a comma-separated secret list for rotation: the first signs, all verify', () => {
    const rotating = { JOBTRACKER_SECRET: ' new-secret , old-secret,, ' };
    assert.deepEqual(
      readConfig([], rotating).secret,
      ['new-secret', 'old-secret'],
      'trimmed, empties dropped',
    );
    assert.deepEqual(readConfig(['--secret=a,b'], rotating).secret, ['a', 'b'], 'the flag wins');
    assert.equal(
      readConfig([], { JOBTRACKER_SECRET: ' , ' }).devMode,
      true,
      'only commas: no secret, dev mode',
    );
    assert.equal(readConfig([], { JOBTRACKER_SECRET: ' , ' }).secret, undefined, 'only commas: unset');
  });

  it('refuses bad numbers and unknown flags with a readable message', () => {
    assert.throws(() => readConfig([], { PORT: 'abc' }), /--port must be a whole number ≥ 0, not "abc"/);
    assert.throws(() => readConfig(['--port=-1'], {}), /--port must be a whole number/);
    assert.throws(() => readConfig(['--lease-ms', '10'], {}), /--lease-ms must be a whole number ≥ 1000/);
    assert.throws(() => readConfig(['--nope'], {}), /Unknown option '--nope'/);
  });
});
