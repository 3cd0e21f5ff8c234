import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import { after, before, describe, it } from 'node:test';
import type { Job } from '@jobtracker/sdk';
import {
  createJobClient,
  type JobClient,
  JobTrackerHttpError,
  JobTrackerNetworkError,
} from '@jobtracker/sdk';
import { type ServerProcess, startServerProcess } from '@jobtracker/test-support/server-process';
import { eventually, memoryStorage, signTestToken } from '@jobtracker/test-support/tokens';

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
    fail: (id: string, leaseToken: string, message: string) =>
      call(`/jobs/${id}/fail`, { leaseToken, error: { message, code: 'test_failure' } }),
  };
}

interface RecordedRequest {
  path: string;
  headers: Headers;
  /** The answer's status, or null while unanswered or when the server could not be reached. */
  status: number | null;
}

/**
 * A `fetch` for the client that records each request (path, headers, status) and its answer in `log`,
 * and can hold stream requests back (as a slow network would) until released.
 */
function recordingFetch() {
  const requests: RecordedRequest[] = [];
  const log: string[] = [];
  let held: Promise<void> | null = null;
  let release = () => {};
  const recording: typeof fetch = async (input, init) => {
    const url = new URL(String(input));
    const record: RecordedRequest = {
      path: url.pathname,
      headers: new Headers(init?.headers),
      status: null,
    };
    requests.push(record);
    if (held && url.pathname.endsWith('/jobs/stream')) await held;
    try {
      const response = await fetch(input, init);
      record.status = response.status;
      log.push(`${record.path} ${response.status}`);
      return response;
    } catch (error) {
      log.push(`${record.path} unreachable`);
      throw error;
    }
  };
  return {
    fetch: recording,
    requests,
    log,
    hold() {
      held = new Promise((resolve) => {
        release = resolve;
      });
    },
    release() {
      held = null;
      release();
    },
  };
}

/** A loopback port that nothing listens on. */
async function closedPort(): Promise<number> {
  const listener = createServer();
  await new Promise<void>((resolve) => listener.listen(0, '127.0.0.1', resolve));
  const { port } = listener.address() as { port: number };
  await new Promise((resolve) => listener.close(resolve));
  return port;
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
      assert.ok(error instanceof JobTrackerHttpError, 'a typed HTTP error');
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

  it('start() answers the existing job when the server dedupes it or an idempotency key is reused', async () => {
    const baseUrl = `${server.url}/api`;
    const client = createJobClient({ baseUrl, transport: 'sse', storage: null });
    const watcher = watch(client);
    await eventually(() => client.$connection.get().state === 'live', 5000, 'a live stream');
    const first = await client.start({ type: 'dedupe.job', scope: 'doc-1', title: 'Export' });
    assert.equal(first.created, true);
    const duplicate = await client.start({ type: 'dedupe.job', scope: 'doc-1', title: 'Export again' });
    assert.deepEqual(
      [duplicate.created, duplicate.reason, duplicate.job.id],
      [false, 'active_duplicate', first.job.id],
    );
    const keyed = await client.start({ type: 'keyed.job', idempotencyKey: 'click-1', dedupe: false });
    assert.equal(keyed.created, true);
    const replayed = await client.start({ type: 'keyed.job', idempotencyKey: 'click-1', dedupe: false });
    assert.deepEqual(
      [replayed.created, replayed.reason, replayed.job.id],
      [false, 'idempotency_key', keyed.job.id],
    );
    // A job created behind the client's back: once the stream brought it, it brought everything before it.
    const marker = (await fetch(`${baseUrl}/jobs`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ type: 'dedupe.marker' }),
    }).then((response) => response.json())) as { job: Job };
    await eventually(() => client.jobStore(marker.job.id).get(), 5000, 'the stream to catch up');
    const held = (type: string) =>
      Object.values(client.$jobs.get())
        .filter((job) => job.type === type)
        .map((job) => job.id);
    assert.deepEqual(held('dedupe.job'), [first.job.id], 'one job of the deduped type and scope');
    assert.deepEqual(held('keyed.job'), [keyed.job.id], 'one job for the idempotency key');
    watcher.stop();
  });

  it('fires on(progress) for each step and on(failed) / on(cancelled) once for each job that ends so', async () => {
    const client = createJobClient({ baseUrl: `${server.url}/api`, transport: 'sse', storage: null });
    const heard: Record<'progress' | 'failed' | 'cancelled' | 'completed', string[]> = {
      progress: [],
      failed: [],
      cancelled: [],
      completed: [],
    };
    client.on('progress', (job) => heard.progress.push(`${job.id} ${job.progress} ${job.message}`));
    client.on('failed', (job) => heard.failed.push(`${job.id} ${job.error?.message}`));
    client.on('cancelled', (job) => heard.cancelled.push(job.id));
    client.on('completed', (job) => heard.completed.push(job.id));
    const watcher = watch(client);
    await eventually(() => client.$connection.get().state === 'live', 5000, 'a live stream');
    const w = worker(server.url);

    const failing = (await client.start({ type: 'listen.fail' })).job;
    const failClaim = await w.claim('listen.fail');
    assert.equal((await w.progress(failing.id, failClaim.leaseToken, 25, 'quarter')).status, 200);
    assert.equal((await w.progress(failing.id, failClaim.leaseToken, 50, 'half')).status, 200);
    assert.equal((await w.fail(failing.id, failClaim.leaseToken, 'Out of paper')).status, 200);

    const cancelled = (await client.start({ type: 'listen.cancel' })).job;
    const cancelClaim = await w.claim('listen.cancel');
    assert.equal((await w.progress(cancelled.id, cancelClaim.leaseToken, 5, 'started')).status, 200);
    await eventually(() => client.jobStore(cancelled.id).get()?.progress === 5, 5000, 'the running job');
    assert.equal((await client.cancel(cancelled.id)).status, 'cancelled');

    // Announcements go out in order: once the last job's is heard, any duplicate of the others would be too.
    const last = (await client.start({ type: 'listen.last' })).job;
    const lastClaim = await w.claim('listen.last');
    assert.equal((await w.complete(last.id, lastClaim.leaseToken, null)).status, 200);
    await eventually(() => heard.completed.length > 0, 5000, 'the last job’s announcement');
    assert.deepEqual(heard, {
      progress: [`${failing.id} 25 quarter`, `${failing.id} 50 half`, `${cancelled.id} 5 started`],
      failed: [`${failing.id} Out of paper`],
      cancelled: [cancelled.id],
      completed: [last.id],
    });
    watcher.stop();
  });
});

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

describe('job client cache owners', () => {
  it('keys its cache by the owner of the token: a token function is asked before anything cached shows, and a token without an owner keeps nothing', async () => {
    const secret = 'owner-test-secret';
    const server = await startServerProcess({ args: ['--worker-key', WORKER, '--secret', secret] });
    const baseUrl = `${server.url}/api`;
    const storage = memoryStorage();
    const alicesJob: Job = {
      id: '01m8k0x60974smd8gnmwwmw5aa',
      type: 'salary.report',
      scope: null,
      title: "Alice's salary report",
      status: 'running',
      progress: 40,
      message: null,
      result: null,
      error: null,
      attempt: 1,
      maxAttempts: 3,
      retryOf: null,
      version: 3,
      createdAt: new Date().toISOString(),
      startedAt: null,
      updatedAt: new Date().toISOString(),
      completedAt: null,
    };
    const cached = JSON.stringify({ v: 1, cursor: '3', jobs: [alicesJob] });
    for (const owner of ['default', 'alice']) storage.setItem(`jobtracker:${baseUrl}:${owner}`, cached);
    storage.setItem(`jobtracker:${baseUrl}:alice:dismissed`, JSON.stringify(['dismissed-by-alice']));
    try {
      let calls = 0;
      const bob = createJobClient({
        baseUrl,
        transport: 'sse',
        storage,
        token: () => {
          calls++;
          return signTestToken('bob', secret);
        },
      });
      const held: string[] = [];
      const stopHeld = bob.$jobs.subscribe((jobs) => held.push(...Object.keys(jobs)));
      assert.deepEqual(bob.$dismissed.get(), [], 'no dismissed ids before the owner is known');
      const { job } = await bob.start({ type: 'bob.job' });
      await eventually(
        () => storage.getItem(`jobtracker:${baseUrl}:bob`)?.includes(job.id),
        3000,
        "bob's cache under bob's key",
      );
      assert.equal(calls, 1, 'the token function was asked once, for the owner and the first requests');
      assert.ok(!held.includes(alicesJob.id), `bob's client never held alice's job: ${held}`);
      assert.equal(storage.getItem(`jobtracker:${baseUrl}:alice`), cached, "alice's cache untouched");
      assert.equal(storage.getItem(`jobtracker:${baseUrl}:default`), cached, 'the shared key untouched');
      stopHeld();

      const opaque = createJobClient({ baseUrl, storage, token: 'not-a-jwt' });
      assert.deepEqual(opaque.$jobs.get(), {}, 'a token without an owner starts empty');
      const keys = [...storage.items.keys()].sort();
      opaque.dismiss('x');
      assert.deepEqual([...storage.items.keys()].sort(), keys, 'and writes nothing');
    } finally {
      await server.kill();
    }
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
