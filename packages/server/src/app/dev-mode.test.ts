import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { caller, SECRET, WORKER_KEY } from '@jobtracker/test-support/server';
import { readConfig } from '../config/config.js';
import { JobEngine } from '../engine/engine.js';
import { SqliteStore } from '../storage/sqlite/sqlite-store.js';
import { createApp, createJobApi } from './app.js';
import { JobTrackerConfigError } from './dev-mode.js';
import { createJobTracker } from './tracker.js';

const dir = mkdtempSync(join(tmpdir(), 'jobtracker-dev-mode-'));
after(() => rmSync(dir, { recursive: true, force: true }));

/** What `secret: process.env.JOBTRACKER_SECRET` passes when the variable is unset. */
const unsetSecret: string | undefined = undefined;

function assertRefusedConfig(error: unknown) {
  assert.ok(error instanceof JobTrackerConfigError, `a JobTrackerConfigError, not ${String(error)}`);
  assert.equal(error.name, 'JobTrackerConfigError', 'the error names itself');
  assert.match(error.message, /\bsecret\b/, 'the message names the secret option');
  assert.match(error.message, /\bauthenticate\b/, 'the message names the authenticate option');
  assert.match(error.message, /devMode: true/, 'the message names the explicit dev-mode switch');
  return true;
}

describe('embedding without a secret or authenticate', () => {
  it('createJobTracker refuses to start, before it opens the database', async () => {
    const db = join(dir, 'refused', 'jobs.db');
    await assert.rejects(
      createJobTracker({ db: `file:${db}`, secret: unsetSecret, onError: () => {} }),
      assertRefusedConfig,
    );
    assert.equal(existsSync(db), false, 'no database file was created');
    await assert.rejects(createJobTracker({ db: ':memory:', secret: '' }), assertRefusedConfig);
  });

  it('createApp and createJobApi refuse to build the API', async () => {
    const store = new SqliteStore({ url: ':memory:' });
    const engine = new JobEngine({ store });
    try {
      assert.throws(() => createApp({ engine, secret: unsetSecret }), assertRefusedConfig);
      assert.throws(() => createJobApi({ engine, workerKey: WORKER_KEY }), assertRefusedConfig);
    } finally {
      await store.close();
    }
  });

  it('runs with devMode: true, open to every caller, and prints the dev-mode banner once', async (t) => {
    const warn = t.mock.method(console, 'warn', () => {});
    const tracker = await createJobTracker({ db: ':memory:', devMode: true, onError: () => {} });
    try {
      const banners = warn.mock.calls.filter((call) => /DEV MODE/.test(call.arguments.join(' ')));
      assert.equal(banners.length, 1, 'the banner is printed once');
      assert.match(String(banners[0]?.arguments[0]), /JOBTRACKER_SECRET/, 'the banner says what to set');
      const call = caller(tracker.app);
      const created = await call('/api/jobs', { body: { type: 'dev.job' } });
      assert.equal(created.status, 201, 'an anonymous caller may start a job in dev mode');
      const claimed = await call('/api/worker/claim', { body: { types: ['dev.job'] } });
      assert.equal(claimed.status, 200, 'the worker API is open in dev mode without a worker key');
      assert.equal(claimed.json.job.id, created.json.job.id, 'the worker claimed the job');
      assert.equal((await call('/api/health')).json.devMode, true, 'health reports dev mode');
    } finally {
      await tracker.close();
    }
  });
});

describe('the worker API outside dev mode', () => {
  const cases = [
    ['a secret', { secret: SECRET }],
    ['authenticate()', { authenticate: () => 'someone' }],
  ] as const;
  for (const [what, auth] of cases) {
    it(`is closed to key-less calls when ${what} is set but no workerKey`, async () => {
      const tracker = await createJobTracker({ db: ':memory:', ...auth, onError: () => {} });
      try {
        const call = caller(tracker.app);
        for (const path of ['/api/worker/claim', '/api/worker/jobs/01m8k0x60974smd8gnmwwmw588/complete']) {
          const answer = await call(path, { body: { types: ['x'], leaseToken: 'x' } });
          assert.equal(answer.status, 403, `${path} is refused`);
          assert.equal(answer.json.error.code, 'worker_api_disabled', `${path} says why`);
          assert.match(
            answer.json.error.message,
            /worker key|JOBTRACKER_WORKER_KEY/,
            `${path} says what to set`,
          );
        }
      } finally {
        await tracker.close();
      }
    });
  }

  it('asks for the key with 401 when a workerKey is set', async () => {
    const tracker = await createJobTracker({
      db: ':memory:',
      secret: SECRET,
      workerKey: WORKER_KEY,
      onError: () => {},
    });
    try {
      const answer = await caller(tracker.app)('/api/worker/claim', { body: { types: ['x'] } });
      assert.deepEqual(
        [answer.status, answer.json.error.code],
        [401, 'unauthorized'],
        'a key-less call is 401',
      );
    } finally {
      await tracker.close();
    }
  });
});

describe('the CLI settings', () => {
  it('choose dev mode explicitly when no secret is configured, and not otherwise', () => {
    assert.equal(readConfig([], {}).devMode, true, 'no secret: dev mode, on purpose');
    assert.equal(readConfig([], { JOBTRACKER_SECRET: '' }).devMode, true, 'an empty secret is unset');
    assert.equal(readConfig([], { JOBTRACKER_SECRET: 's3cret' }).devMode, false, 'a secret: no dev mode');
    assert.equal(readConfig(['--secret', 's3cret'], {}).devMode, false, 'a --secret flag: no dev mode');
  });
});
