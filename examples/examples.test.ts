import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { createJobClient } from '../packages/sdk/src/index.js';
import { type ServerProcess, startServerProcess } from '../packages/sdk/src/testing/server-process.js';
import { eventually } from '../packages/sdk/src/testing/tokens.js';

const here = (path: string) => fileURLToPath(new URL(path, import.meta.url));
const children: ChildProcess[] = [];

function run(script: string, args: string[], env: Record<string, string> = {}) {
  const child = spawn(process.execPath, [here(script), ...args], {
    env: { ...process.env, ...env },
    stdio: 'pipe',
  });
  children.push(child);
  let output = '';
  child.stdout?.on('data', (chunk) => {
    output += chunk;
  });
  child.stderr?.on('data', (chunk) => {
    output += chunk;
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
  return { child, exited, output: () => output };
}

describe('examples', () => {
  let server: ServerProcess;
  before(async () => {
    server = await startServerProcess({ args: ['--demo'] });
  });
  after(async () => {
    for (const child of children) child.kill('SIGKILL');
    await server.kill();
  });

  it('node: starts a job, draws its progress in the terminal and ends with the result', async () => {
    const script = run('./node/progress.mjs', [
      '--url',
      `${server.url}/api`,
      '--ms',
      '1500',
      '--title',
      'From a test',
    ]);
    assert.equal(await script.exited, 0, script.output());
    const output = script.output();
    assert.match(output, /Started job [0-9a-z]{26}/);
    assert.match(output, /\[#{30}\] 100%/);
    const percents = [...output.matchAll(/\] +(\d+)%/g)].map((match) => Number(match[1]));
    assert.ok(
      percents.some((percent) => percent > 0 && percent < 100),
      `the bar moves through the job's progress: ${percents}`,
    );
    assert.deepEqual(
      percents,
      [...percents].sort((a, b) => a - b),
      'and never goes back',
    );
    assert.match(output, /Done: “From a test” is ready.*→ \/programs\/[0-9a-z]{26}/);
  });

  it('worker: a separate process claims a job through the worker API and completes it with progress', async () => {
    const worker = run('./worker/worker.mjs', ['--url', `${server.url}/api`]);
    await eventually(() => worker.output().includes('claiming report.export'), 5000, 'the worker to start');
    const client = createJobClient({ baseUrl: `${server.url}/api`, storage: null });
    const seen: string[] = [];
    let lastVersion = 0;
    const stop = client.$jobs.subscribe((jobs) => {
      for (const job of Object.values(jobs))
        if (
          job.type === 'report.export' &&
          job.status === 'running' &&
          job.message &&
          job.version > lastVersion
        ) {
          lastVersion = job.version;
          seen.push(`${job.progress}% ${job.message}`);
        }
    });
    const created = await fetch(`${server.url}/api/jobs`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ type: 'report.export', input: { rows: 40, stepMs: 30 } }),
    }).then((r) => r.json() as Promise<{ job: { id: string } }>);
    const done = await eventually(
      async () => {
        const { job } = (await (await fetch(`${server.url}/api/jobs/${created.job.id}`)).json()) as {
          job: { status: string; progress: number; result: { summary: string } };
        };
        return job.status === 'completed' ? job : null;
      },
      10_000,
      'the worker to complete the job',
    );
    assert.deepEqual([done.progress, done.result.summary], [100, '40 rows exported']);
    stop();
    assert.deepEqual(
      seen,
      [0, 4, 8, 12, 16, 20, 24, 28, 32, 36, 40].map(
        (rows) => `${(rows / 40) * 100}% Exported ${rows} of 40 rows`,
      ),
      'every progress report of the worker reached a watching client, in order',
    );
    worker.child.kill('SIGTERM');
    assert.equal(await worker.exited, 0, 'the worker stops cleanly');
  });
});
