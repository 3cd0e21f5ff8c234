import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Job } from '@jobtracker/sdk';
import { createJobClient } from '@jobtracker/sdk';
import { createWorkerApi } from '@jobtracker/sdk/worker';
import type { RunningServer } from '@jobtracker/server';
import { signToken } from '@jobtracker/server';
import { eventually } from '@jobtracker/test-support/browser-assert';
import { type FaultProxy, startFaultProxy } from '@jobtracker/test-support/fault-proxy';
import { SECRET, startReliabilityServer, WORKER_KEY } from './server.js';

// Promise 4: a half-open connection (traffic silently dropped) is noticed within the client's watchdog
// period, and the client resumes with no gap.
const HEARTBEAT_MS = 300;
const WATCHDOG_MS = 1500;

describe('a half-open connection', () => {
  let server: RunningServer;
  let proxy: FaultProxy;
  before(async () => {
    server = await startReliabilityServer({
      heartbeatMs: HEARTBEAT_MS,
    });
    proxy = await startFaultProxy({ host: '127.0.0.1', port: server.port });
  });
  after(async () => {
    await proxy.close();
    await server.close();
  });

  it('is noticed within the watchdog period, and the client resumes to the job as it is, versions rising', async (t) => {
    const token = signToken({ sub: 'half-open', expiresInSeconds: 600 }, SECRET);
    const client = createJobClient({
      baseUrl: `${proxy.url}/api`,
      token,
      transport: 'sse',
      storage: null,
      shareTabs: false,
      watchdogMs: WATCHDOG_MS,
    });
    const versions: number[] = [];
    const states: string[] = [];
    let id = '';
    const stopJobs = client.$jobs.subscribe((jobs) => {
      const job = jobs[id] as Job | undefined;
      if (job && job.version !== versions.at(-1)) versions.push(job.version);
    });
    const stopStatus = client.$connection.subscribe((status) => states.push(status.state));
    const worker = createWorkerApi({ baseUrl: `${server.url}/api`, workerKey: WORKER_KEY });
    try {
      await eventually(() => states.includes('live'), 5000, 'the stream to be live');
      const created = await client.start({ type: 'half.open' });
      id = created.job.id;
      const claimed = await worker.claim({ types: ['half.open'] });
      assert.ok(claimed, 'the job is claimed');
      let progress = 0;
      const step = async () => {
        progress++;
        await worker.progress(id, claimed.leaseToken, { progress, message: `step ${progress}` });
      };
      for (let i = 0; i < 5; i++) await step();
      await eventually(() => client.$jobs.get()[id]?.progress === 5, 5000, 'progress before the fault');
      const connectionsBefore = proxy.opened;
      proxy.blackhole();
      const droppedAt = Date.now();
      // The worker goes on while the client hears nothing.
      const reporting = (async () => {
        for (let i = 0; i < 10; i++) {
          await step();
          await new Promise((resolve) => setTimeout(resolve, 100));
        }
      })();
      // Within the watchdog period, with slack for a busy machine.
      await eventually(() => proxy.opened > connectionsBefore, WATCHDOG_MS + 3000, 'a new connection');
      const noticedAfter = Date.now() - droppedAt;
      await reporting;
      await worker.complete(id, claimed.leaseToken, { url: '/done' });
      // Liveness only (the promise is the watchdog above and the versions below): a CI run once saw the
      // completion take longer than 5 s after a timely reconnect; the time is reported.
      const completing = Date.now();
      await eventually(() => client.$jobs.get()[id]?.status === 'completed', 15_000, 'the completion');
      const completedAfter = Date.now() - completing;
      const job = client.$jobs.get()[id] as Job;
      // Versions rise, none twice, up to the job as the server has it. Of the reports made while the
      // client heard nothing, the log keeps the last of each flush (one row per job per flush), so the
      // replay may pass over progress the client would have overwritten anyway, never a status.
      const first = versions[0] as number;
      assert.ok(
        versions.every((version, i) => i === 0 || version > (versions[i - 1] as number)),
        `versions rise, none twice: ${versions.join(', ')}`,
      );
      const served = await fetch(`${server.url}/api/jobs/${id}`, {
        headers: { Authorization: `Bearer ${token}` },
      });
      assert.deepEqual(job, ((await served.json()) as { job: Job }).job, 'the client holds the job as it is');
      t.diagnostic(
        `half-open noticed and reconnected ${noticedAfter} ms after the drop (watchdog ${WATCHDOG_MS} ms, heartbeat ${HEARTBEAT_MS} ms); versions ${first}..${job.version} rising (${versions.length} seen); the completion ${completedAfter} ms after the worker sent it`,
      );
    } finally {
      stopJobs();
      stopStatus();
    }
  });
});
