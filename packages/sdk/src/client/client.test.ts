import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { JobTrackerHttpError } from '../errors/errors.js';
import { type ServerProcess, startServerProcess } from '../testing/server-process.js';
import { eventually, memoryStorage, signTestToken } from '../testing/tokens.js';
import type { Job } from '../wire.js';
import { createJobClient, type JobClient } from './client.js';

const WORKER = 'test-worker-key';

/** Drives a job through the worker API, as a worker process would. */
function worker(base: string) {
  const call = async (path: string, body: unknown) => {
    const response = await fetch(`${base}/api/worker${path}`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${WORKER}`, 'Content-Type': 'application/json' },
      body: JSON.stringify(body),
    });
    return { status: response.status, json: response.status === 204 ? null : await response.json() };
  };
  return {
    async claim(type: string) {
      const { json } = await call('/claim', { types: [type], leaseMs: 60_000 });
      return json as { job: Job; leaseToken: string };
    },
    progress: (id: string, leaseToken: string, progress: number, message: string) =>
      call(`/jobs/${id}/progress`, { leaseToken, progress, message }),
    complete: (id: string, leaseToken: string, result: unknown) =>
      call(`/jobs/${id}/complete`, { leaseToken, result }),
  };
}

/** Subscribes to the client's stores (which starts its connection) and records what it saw. */
function watch(client: JobClient) {
  const seen: Job[] = [];
  const stop = client.$jobs.listen((jobs) => {
    for (const job of Object.values(jobs)) {
      const last = seen.findLast((s) => s.id === job.id);
      if (!last || last.version !== job.version) seen.push(job);
    }
  });
  const stopConnection = client.$connection.subscribe(() => {});
  return {
    seen,
    stop() {
      stop();
      stopConnection();
    },
  };
}

describe('job client in Node against a real server', () => {
  let server: ServerProcess;
  before(async () => {
    server = await startServerProcess({ args: ['--worker-key', WORKER] });
  });
  after(() => server.kill());

  for (const transport of ['sse', 'poll'] as const) {
    it(`follows a job from creation to completion with every progress step in order (${transport})`, async () => {
      const client = createJobClient({
        baseUrl: `${server.url}/api`,
        transport,
        storage: null,
        pollActiveMs: 50,
        pollIdleMs: 50,
      });
      const watcher = watch(client);
      await eventually(
        () => ['live', 'polling'].includes(client.$connection.get().state),
        5000,
        'a connection',
      );
      const { job, created } = await client.start({ type: `steps.${transport}`, title: 'Steps' });
      assert.equal(created, true);
      assert.equal(
        client.jobStore(job.id).get()?.status,
        'pending',
        'the started job is in the store at once',
      );
      const w = worker(server.url);
      const claim = await w.claim(`steps.${transport}`);
      for (const step of [10, 20, 30, 40, 50, 60, 70, 80, 90]) {
        await w.progress(job.id, claim.leaseToken, step, `step ${step}`);
        if (transport === 'poll')
          await eventually(() => client.jobStore(job.id).get()?.progress === step, 3000, `step ${step}`);
      }
      await w.complete(job.id, claim.leaseToken, { url: '/done' });
      await eventually(() => client.jobStore(job.id).get()?.status === 'completed', 5000, 'completion');
      const progress = watcher.seen
        .filter((j) => j.id === job.id && j.status === 'running')
        .map((j) => j.progress);
      if (transport === 'sse') assert.deepEqual(progress, [null, 10, 20, 30, 40, 50, 60, 70, 80, 90]);
      else
        assert.deepEqual(
          progress.filter((p) => p !== null),
          [10, 20, 30, 40, 50, 60, 70, 80, 90],
        );
      const versions = watcher.seen.filter((j) => j.id === job.id).map((j) => j.version);
      assert.deepEqual(
        versions,
        [...versions].sort((a, b) => a - b),
        'versions only rise',
      );
      assert.equal(
        client.$active.get().some((j) => j.id === job.id),
        false,
      );
      assert.equal(client.$recent.get()[0]?.id, job.id);
      watcher.stop();
    });
  }

  it('rejects actions with typed errors and keeps connection errors in $connection', async () => {
    const client = createJobClient({ baseUrl: `${server.url}/api`, storage: null });
    await assert.rejects(client.cancel('01m8k0x60974smd8gnmwwmw588'), (error) => {
      assert.ok(error instanceof JobTrackerHttpError);
      assert.deepEqual([error.status, error.code], [404, 'not_found']);
      return true;
    });
    await assert.rejects(
      client.start({ type: 'bad type!' }),
      (error) => error instanceof JobTrackerHttpError && error.status === 422,
    );
    const unreachable = createJobClient({
      baseUrl: 'http://127.0.0.1:9/api',
      storage: null,
      transport: 'sse',
    });
    const stop = unreachable.$connection.subscribe(() => {});
    await eventually(() => unreachable.$connection.get().state === 'error', 5000, 'an error state');
    assert.equal(unreachable.$connection.get().error?.code, 'network');
    stop();
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

describe('job client cache and cursor', () => {
  it('starts from its stored jobs, then takes a clean reset when its cursor is not the server’s', async () => {
    const server = await startServerProcess({ args: ['--worker-key', WORKER] });
    const storage = memoryStorage();
    const ghost: Job = {
      id: '01m8k0x60974smd8gnmwwmw599',
      type: 'ghost',
      scope: null,
      title: 'From another database',
      status: 'running',
      progress: 50,
      message: null,
      result: null,
      error: null,
      attempt: 1,
      maxAttempts: 3,
      retryOf: null,
      version: 9,
      createdAt: new Date().toISOString(),
      startedAt: null,
      updatedAt: new Date().toISOString(),
      completedAt: null,
    };
    const baseUrl = `${server.url}/api`;
    storage.setItem(
      `jobtracker:${baseUrl}:default`,
      JSON.stringify({ v: 1, cursor: '9999999999999999', jobs: [ghost] }),
    );
    const client = createJobClient({ baseUrl, transport: 'sse', storage });
    assert.equal(
      client.jobStore(ghost.id).get()?.title,
      'From another database',
      'known before any network answer',
    );
    const real = await fetch(`${baseUrl}/jobs`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ type: 'real' }),
    }).then((r) => r.json());
    const watcher = watch(client);
    await eventually(() => client.jobStore(real.job.id).get(), 5000, 'the reset snapshot');
    assert.equal(client.jobStore(ghost.id).get(), undefined, 'the reset replaced the stale cache');
    assert.notEqual(client.cursor, '9999999999999999');
    await eventually(
      () => JSON.parse(storage.getItem(`jobtracker:${baseUrl}:default`) ?? '{}').cursor === client.cursor,
      2000,
      'the cache to be saved',
    );
    client.clear();
    assert.equal(storage.getItem(`jobtracker:${baseUrl}:default`), null);
    watcher.stop();
    await server.kill();
  });
});

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
});

describe('job client lifecycle and announcements', () => {
  let server: ServerProcess;
  before(async () => {
    server = await startServerProcess({ args: ['--worker-key', WORKER] });
  });
  after(() => server.kill());
  const streams = async () => (await (await fetch(`${server.url}/api/health`)).json()).streams as number;

  it('opens no connection until a store has a subscriber, and closes it after the last one leaves', async () => {
    const client = createJobClient({ baseUrl: `${server.url}/api`, transport: 'sse', storage: null });
    await new Promise((resolve) => setTimeout(resolve, 300));
    assert.equal(await streams(), 0, 'creating a client connects nothing');
    const first = client.$active.subscribe(() => {});
    const second = client.activeFor('x').subscribe(() => {});
    await eventually(async () => (await streams()) === 1, 3000, 'one stream');
    first();
    await new Promise((resolve) => setTimeout(resolve, 1300));
    assert.equal(await streams(), 1, 'still one subscriber left');
    second();
    await eventually(
      async () => (await streams()) === 0,
      4000,
      'the stream to close after the last subscriber',
    );
  });

  it('announces a job that finished while no page was open, once, when a page next loads', async () => {
    const storage = memoryStorage();
    const baseUrl = `${server.url}/api`;
    const before = createJobClient({ baseUrl, transport: 'sse', storage });
    const watcher = watch(before);
    const { job } = await before.start({ type: 'away.job', title: 'While away' });
    await eventually(
      () => storage.getItem(`jobtracker:${baseUrl}:default`)?.includes(job.id),
      3000,
      'the cache',
    );
    watcher.stop();

    const w = worker(server.url);
    const claim = await w.claim('away.job');
    await w.complete(job.id, claim.leaseToken, { url: '/away' });

    const announced: string[] = [];
    const later = createJobClient({ baseUrl, transport: 'sse', storage });
    later.on('completed', (done) => announced.push(done.id));
    const stop = later.$active.subscribe(() => {});
    await eventually(() => announced.length === 1, 5000, 'the announcement');
    const again = createJobClient({ baseUrl, transport: 'sse', storage });
    again.on('completed', (done) => announced.push(done.id));
    const stopAgain = again.$active.subscribe(() => {});
    await eventually(
      () => again.jobStore(job.id).get()?.status === 'completed',
      5000,
      'the third page to load',
    );
    await new Promise((resolve) => setTimeout(resolve, 300));
    assert.deepEqual(announced, [job.id], 'announced once, not on every page load');
    stop();
    stopAgain();
  });
});
