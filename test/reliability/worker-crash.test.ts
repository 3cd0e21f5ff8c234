import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import type { Job } from '@jobtracker/sdk';
import type { RunningServer } from '@jobtracker/server';
import { signToken } from '@jobtracker/server';
import { eventually } from '@jobtracker/test-support/browser-assert';
import { SECRET, startReliabilityServer, WORKER_KEY } from './server.js';

// Promise 5: a worker SIGKILLed mid-job loses its lease; the job is re-queued (or failed once its attempts
// are spent), and a late write from the dead worker is refused.
const WORKER = fileURLToPath(new URL('./fixtures/crash-worker.ts', import.meta.url));

describe('a worker killed mid-job', () => {
  const token = signToken({ sub: 'crash-owner', expiresInSeconds: 600 }, SECRET);
  let server: RunningServer;
  before(async () => {
    server = await startReliabilityServer({
      engine: { leaseCheckIntervalMs: 200 },
    });
  });
  after(async () => {
    await server.close();
  });

  const api = async (path: string, body?: unknown, auth = token) => {
    const response = await fetch(`${server.url}/api${path}`, {
      method: body === undefined ? 'GET' : 'POST',
      headers: { Authorization: `Bearer ${auth}`, 'Content-Type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    return { status: response.status, json: (await response.json()) as Record<string, unknown> };
  };
  const job = async (id: string) => (await api(`/jobs/${id}`)).json.job as Job;
  /** The job once it is in `status`; fails after 5 s. */
  const inStatus = (id: string, status: Job['status'], what: string) =>
    eventually(
      async () => {
        const current = await job(id);
        return current.status === status ? current : null;
      },
      5000,
      what,
    );

  /** Starts a worker process, waits for its claim, lets it report a little, and SIGKILLs it. */
  async function crashAWorker(type: string) {
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', WORKER, `${server.url}/api`, WORKER_KEY, type],
      {
        stdio: ['ignore', 'pipe', 'inherit'],
      },
    );
    const exited = new Promise((resolve) => child.once('exit', resolve));
    const lease = await new Promise<{ id: string; leaseToken: string }>((resolve, reject) => {
      let out = '';
      child.stdout?.on('data', (chunk) => {
        out += chunk;
        const line = out.split('\n')[0];
        if (out.includes('\n') && line) resolve(JSON.parse(line));
      });
      child.once('exit', (code) => reject(new Error(`the worker exited with ${code} before claiming`)));
    });
    await eventually(
      async () => ((await job(lease.id)).progress ?? 0) >= 3,
      5000,
      'progress from the worker',
    );
    child.kill('SIGKILL');
    await exited;
    return lease;
  }

  it('re-queues the job once the lease runs out, and refuses the dead worker’s late write', async (t) => {
    const created = await api('/jobs', { type: 'crash.requeue', maxAttempts: 3 });
    const id = (created.json.job as Job).id;
    const lease = await crashAWorker('crash.requeue');
    const killedAt = Date.now();
    // Bounded by the wait below: a lease of 1 s checked every 0.2 s must not take 5 s to notice.
    const requeued = await inStatus(id, 'pending', 'the job to be pending again');
    const late = await api(
      `/worker/jobs/${id}/progress`,
      { leaseToken: lease.leaseToken, progress: 99 },
      WORKER_KEY,
    );
    assert.deepEqual([late.status, (late.json.error as { code: string }).code], [409, 'lease_lost']);
    assert.equal((await job(id)).version, requeued.version, 'the refused write changed nothing');
    // The next worker takes it over as attempt 2.
    const next = await api('/worker/claim', { types: ['crash.requeue'] }, WORKER_KEY);
    assert.equal((next.json.job as Job | undefined)?.attempt, 2);
    t.diagnostic(
      `re-queued ${Date.now() - killedAt} ms after the SIGKILL (lease 1 s, leases checked every 0.2 s)`,
    );
  });

  it('fails the job with worker_lost when the killed worker held its last attempt', async () => {
    const created = await api('/jobs', { type: 'crash.last', maxAttempts: 1 });
    const id = (created.json.job as Job).id;
    const lease = await crashAWorker('crash.last');
    const failed = await inStatus(id, 'failed', 'the job to fail');
    assert.equal(failed.error?.code, 'worker_lost');
    const late = await api(`/worker/jobs/${id}/complete`, { leaseToken: lease.leaseToken }, WORKER_KEY);
    assert.equal(late.status, 409);
    assert.equal((await job(id)).status, 'failed', 'a failed job stays failed');
  });
});
