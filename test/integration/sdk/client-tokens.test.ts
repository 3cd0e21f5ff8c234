import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createJobClient } from '@jobtracker/sdk';
import { startServerProcess } from '@jobtracker/test-support/server-process';
import { eventually, signTestToken } from '@jobtracker/test-support/tokens';
import { recordingFetch, WORKER, watch, worker } from './client-fixture.js';

describe('job client tokens', () => {
  it('asks the token function again after a 401 and resumes the stream', async () => {
    const secret = 'sdk-test-secret';
    const server = await startServerProcess({ args: ['--worker-key', WORKER, '--secret', secret] });
    let calls = 0;
    const client = createJobClient({
      baseUrl: `${server.url}/api`,
      transport: 'sse',
      storage: null,
      token: () => {
        calls++;
        return calls === 1 ? signTestToken('tina', 'wrong-secret') : signTestToken('tina', secret);
      },
    });
    const watcher = watch(client);
    await eventually(
      () => client.$connection.get().state === 'live',
      5000,
      'a live stream after the refresh',
    );
    assert.equal(calls, 2);
    const { job } = await client.start({ type: 'token.job' });
    await eventually(() => client.jobStore(job.id).get(), 3000, 'the job');
    assert.equal(calls, 2, 'a valid token is reused');
    watcher.stop();
    await server.kill();
  });

  it('a 401 on an established session: asks the token function again and resumes from its cursor without a reset', async () => {
    let secret = 'secret-before-rotation';
    let server = await startServerProcess({
      args: ['--worker-key', WORKER],
      env: { JOBTRACKER_SECRET: secret },
    });
    const network = recordingFetch();
    let calls = 0;
    const client = createJobClient({
      baseUrl: `${server.url}/api`,
      transport: 'sse',
      storage: null,
      fetch: network.fetch,
      token: () => {
        calls++;
        network.log.push('token');
        return signTestToken('rita', secret);
      },
    });
    const watcher = watch(client);
    try {
      await eventually(() => client.$connection.get().state === 'live', 5000, 'a live stream');
      const { job } = await client.start({ type: 'rotation.job', title: 'Rotation' });
      const w = worker(server.url);
      const claim = await w.claim('rotation.job');
      for (const step of [10, 20, 30]) {
        assert.equal((await w.progress(job.id, claim.leaseToken, step, `step ${step}`)).status, 200);
      }
      await eventually(() => client.jobStore(job.id).get()?.progress === 30, 5000, 'live progress');

      await server.stop();
      await eventually(
        () => client.$connection.get().error?.code === 'network',
        5000,
        'the client to find the server gone',
      );
      const cursor = client.cursor;
      assert.ok(cursor, 'the client holds a cursor');
      const callsBefore = calls;
      // The client's next stream request waits until the worker has moved on without it.
      network.hold();
      const logFrom = network.log.length;
      secret = 'secret-after-rotation';
      server = await server.restart({ env: { JOBTRACKER_SECRET: secret } });
      for (const step of [40, 50, 60]) {
        assert.equal((await w.progress(job.id, claim.leaseToken, step, `step ${step}`)).status, 200);
      }
      network.release();
      await eventually(() => client.jobStore(job.id).get()?.progress === 60, 5000, 'the steps missed');
      assert.equal((await w.complete(job.id, claim.leaseToken, { url: '/rotated' })).status, 200);
      await eventually(() => client.jobStore(job.id).get()?.status === 'completed', 5000, 'completion');

      // (An attempt already on its way to the stopped server may still fail after the hold.)
      const reconnect = network.log.slice(logFrom).filter((entry) => !entry.endsWith(' unreachable'));
      assert.deepEqual(
        reconnect.slice(0, 3),
        ['/api/jobs/stream 401', 'token', '/api/jobs/stream 200'],
        'refused, a fresh token, and the stream again',
      );
      assert.equal(calls, callsBefore + 1);
      const streams = network.requests.filter((r) => r.path === '/api/jobs/stream');
      const refused = streams.findIndex((r) => r.status === 401);
      const [rejected, retried] = [streams[refused], streams[refused + 1]];
      assert.ok(rejected && retried, 'the refused request and its retry were both seen');
      assert.equal(rejected.headers.get('last-event-id'), cursor);
      assert.equal(retried.headers.get('last-event-id'), cursor, 'the retry resumes from the cursor held');
      assert.notEqual(retried.headers.get('authorization'), rejected.headers.get('authorization'));
      // A reset would have replaced the job by its state at 60: each missed step proves a replay.
      const running = watcher.seen.filter((j) => j.id === job.id && j.status === 'running');
      assert.deepEqual(
        running.map((j) => j.progress),
        [null, 10, 20, 30, 40, 50, 60],
      );
      assert.deepEqual(
        watcher.seen.filter((j) => j.id === job.id).map((j) => j.status),
        ['pending', ...running.map(() => 'running'), 'completed'],
      );
    } finally {
      watcher.stop();
      await server.kill();
    }
  });
});
