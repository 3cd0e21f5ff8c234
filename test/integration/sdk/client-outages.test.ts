import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createJobClient, JobTrackerNetworkError } from '@jobtracker/sdk';
import { startServerProcess } from '@jobtracker/test-support/server-process';
import { eventually } from '@jobtracker/test-support/tokens';
import { closedPort, recordingFetch, WORKER, watch } from './client-fixture.js';

describe('job client against an unreachable server', () => {
  it('rejects actions with JobTrackerNetworkError and keeps connection errors in $connection, never unhandled', async () => {
    const unhandled: unknown[] = [];
    const onUnhandled = (reason: unknown) => unhandled.push(reason);
    process.on('unhandledRejection', onUnhandled);
    try {
      const baseUrl = `http://127.0.0.1:${await closedPort()}/api`;
      const sse = recordingFetch();
      const client = createJobClient({ baseUrl, storage: null, fetch: sse.fetch });
      await assert.rejects(
        client.start({ type: 'nowhere' }),
        (error) => error instanceof JobTrackerNetworkError,
      );
      await assert.rejects(
        client.cancel('01m8k0x60974smd8gnmwwmw588'),
        (error) => error instanceof JobTrackerNetworkError,
      );
      const polling = recordingFetch();
      const poller = createJobClient({ baseUrl, storage: null, transport: 'poll', fetch: polling.fetch });
      const stops = [client.$connection.subscribe(() => {}), poller.$connection.subscribe(() => {})];
      const failed = (log: string[], path: string) => log.filter((entry) => entry === `${path} unreachable`);
      await eventually(
        () => failed(sse.log, '/api/jobs/stream').length >= 3 && failed(polling.log, '/api/jobs').length >= 2,
        8000,
        'repeated attempts of both clients',
      );
      for (const status of [client.$connection.get(), poller.$connection.get()]) {
        assert.ok(['offline', 'error'].includes(status.state), status.state);
        assert.equal(status.error?.code, 'network');
        assert.equal(status.lastContactAt, null);
      }
      for (const stop of stops) stop();
      await new Promise((resolve) => setImmediate(resolve));
      assert.deepEqual(unhandled, []);
    } finally {
      process.off('unhandledRejection', onUnhandled);
    }
  });
});

describe('job client through a server crash', () => {
  it('reconnects by itself after SIGKILL and a restart, and ends with the job’s true final state', async () => {
    let server = await startServerProcess({ args: ['--worker-key', WORKER, '--demo', '--lease-ms', '1500'] });
    const client = createJobClient({ baseUrl: `${server.url}/api`, transport: 'sse', storage: null });
    const statuses: string[] = [];
    client.on('completed', (job) => statuses.push(`announced ${job.id}`));
    const watcher = watch(client);
    const { job } = await client.start({
      type: 'demo.generate',
      title: 'Crash',
      input: { durationMs: 2500 },
    });
    await eventually(
      () => (client.jobStore(job.id).get()?.progress ?? 0) >= 20,
      10_000,
      'progress before the crash',
    );
    await server.kill();
    await eventually(() => client.$connection.get().state !== 'live', 5000, 'the client to notice');
    server = await server.restart();
    const done = await eventually(
      () => (client.jobStore(job.id).get()?.status === 'completed' ? client.jobStore(job.id).get() : null),
      25_000,
      'the true final state',
    );
    assert.equal(done?.attempt, 2);
    assert.equal(client.$connection.get().state, 'live');
    await eventually(() => statuses.length === 1, 3000, 'the completion announcement');
    assert.deepEqual(statuses, [`announced ${job.id}`]);
    watcher.stop();
    await server.kill();
  });
});
