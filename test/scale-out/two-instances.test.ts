import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createJobClient, type Job, type JobClient } from '@jobtracker/sdk';
import { createWorkerApi } from '@jobtracker/sdk/worker';
import { openTestSchema } from '@jobtracker/test-support/postgres';
import { SECRET, SseReader, type StreamJob, tokenFor, WORKER_KEY } from '@jobtracker/test-support/server';
import { type ServerProcess, startServerProcess } from '@jobtracker/test-support/server-process';
import pg from 'pg';
import { type Balancer, startBalancer } from './balancer.js';

// Several API processes on one PostgreSQL database: a client on one instance sees what a worker reports
// to another, in order; a client whose instance dies resumes on another from its cursor, losing nothing;
// dedupe holds across instances.

const env = { JOBTRACKER_SECRET: SECRET, JOBTRACKER_WORKER_KEY: WORKER_KEY };
const TYPE = 'scale.report';
const PASSWORD = 'never-printed';
/**
 * Clients moved at once by the crowd failover test: `JOBTRACKER_SCALE_OUT_FULL=1` (or the reliability
 * suite's `JOBTRACKER_RELIABILITY_FULL=1`) for the full count.
 */
const FULL = [process.env.JOBTRACKER_SCALE_OUT_FULL, process.env.JOBTRACKER_RELIABILITY_FULL].includes('1');
const CROWD = FULL ? 300 : 12;
const FAILOVER_TYPE = 'scale.failover';

let database: Awaited<ReturnType<typeof openTestSchema>>;
let db: string;
const processes: ServerProcess[] = [];
const closers: (() => Promise<unknown> | unknown)[] = [];

before(async () => {
  database = await openTestSchema();
  const url = new URL(database.db);
  // Trust auth ignores it; the instances must not print it.
  url.password = PASSWORD;
  db = url.toString();
});

after(async () => {
  for (const close of closers.reverse()) await close();
  await Promise.all(processes.map((server) => server.kill()));
  await database?.drop();
});

/** Starts instances together, so that they also race to migrate the new schema. */
async function startInstances(count: number): Promise<ServerProcess[]> {
  const started = await Promise.all(Array.from({ length: count }, () => startServerProcess({ db, env })));
  processes.push(...started);
  for (const server of started) {
    assert.match(server.output(), /database postgres:\/\/postgres:\*\*\*@/);
    assert.ok(!server.output().includes(PASSWORD), 'the start-up line hides the password');
  }
  return started;
}

/** Two instances behind a balancer that sends new connections to A while it answers, else to B. */
async function startBalancedPair(): Promise<{ a: ServerProcess; b: ServerProcess; balancer: Balancer }> {
  const [a, b] = (await startInstances(2)) as [ServerProcess, ServerProcess];
  const balancer = await startBalancer([a.port, b.port]);
  closers.push(() => balancer.close());
  return { a, b, balancer };
}

/** A stream of the caller's jobs; a resumed one (`lastEventId`) is given the jobs its client held. */
async function openStream(baseUrl: string, token: string, lastEventId?: string, known: StreamJob[] = []) {
  const controller = new AbortController();
  closers.push(() => controller.abort());
  const response = await fetch(`${baseUrl}/api/jobs/stream`, {
    headers: { Authorization: `Bearer ${token}`, ...(lastEventId ? { 'Last-Event-ID': lastEventId } : {}) },
    signal: controller.signal,
  });
  assert.equal(response.status, 200);
  const reader = new SseReader(response, known);
  await reader.until(() => reader.ready.length > 0, 10_000, 'the stream to be ready');
  return { reader, close: () => controller.abort() };
}

async function createJob(baseUrl: string, token: string, body: Record<string, unknown>) {
  const response = await fetch(`${baseUrl}/api/jobs`, {
    method: 'POST',
    headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' },
    body: JSON.stringify(body),
  });
  assert.ok(response.status === 200 || response.status === 201, `create answered ${response.status}`);
  return (await response.json()) as { job: Job; created: boolean };
}

/** The versions of one job the streams conveyed (`job` events, and `progress` deltas applied), in order. */
const versionsOf = (readers: SseReader[], jobId: string) =>
  readers.flatMap((reader) => reader.jobs().filter((job) => job.id === jobId)).map((job) => job.version);

const cursorsOf = (reader: SseReader) =>
  reader.events
    .filter((event) => event.event === 'job' || event.event === 'progress')
    .map((event) => BigInt(event.id ?? '0'));

const rising = (values: readonly bigint[]) =>
  values.every((value, i) => i === 0 || value > (values[i - 1] ?? 0n));

describe('two API instances on one PostgreSQL database', () => {
  let a: ServerProcess;
  let b: ServerProcess;

  before(async () => {
    [a, b] = (await startInstances(2)) as [ServerProcess, ServerProcess];
  });

  it('delivers to a client on one instance the progress and completion a worker reports to the other, in order', async () => {
    const token = tokenFor('ada');
    const { reader } = await openStream(a.url, token);
    const sdk: JobClient = createJobClient({
      baseUrl: `${a.url}/api`,
      token,
      transport: 'sse',
      storage: null,
    });
    const completions: string[] = [];
    sdk.on('completed', (job) => completions.push(job.id));
    const stopJobs = sdk.$jobs.listen(() => {});
    closers.push(stopJobs);

    const { job } = await createJob(a.url, token, { type: TYPE, scope: 'in-order' });
    const worker = createWorkerApi({ baseUrl: `${b.url}/api`, workerKey: WORKER_KEY });
    const claimed = await worker.claim({ types: [TYPE], workerId: 'worker-on-b' });
    assert.equal(claimed?.job.id, job.id, 'the worker on B claims the job created on A');
    const lease = claimed?.leaseToken ?? '';
    for (let step = 1; step <= 9; step++) {
      await worker.progress(job.id, lease, { progress: step * 10, message: `Step ${step} of 10` });
    }
    await worker.complete(job.id, lease, { url: '/reports/1', summary: 'Report ready' });

    await reader.until(
      () => reader.jobs().some((event) => event.id === job.id && event.status === 'completed'),
      10_000,
      'the completion on A',
    );
    // Every version once, in order: created (1), claimed (2), nine progress steps (3–11), completed (12).
    assert.deepEqual(
      versionsOf([reader], job.id),
      Array.from({ length: 12 }, (_, i) => i + 1),
    );
    const progress = reader
      .jobs()
      .filter((event) => event.id === job.id && event.status === 'running')
      .map((event) => event.progress as number | null);
    assert.deepEqual(progress, [null, 10, 20, 30, 40, 50, 60, 70, 80, 90]);
    assert.ok(rising(cursorsOf(reader)), 'cursors rise');

    const deadline = Date.now() + 10_000;
    while (completions.length === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    assert.deepEqual(completions, [job.id], 'the SDK client on A announces the completion once');
    assert.equal(sdk.$jobs.get()[job.id]?.status, 'completed');
  });

  it("takes a dismissal on one instance to the user's device on the other, and to no other user", async () => {
    const token = tokenFor('dana');
    const device = (instance: ServerProcess) =>
      createJobClient({
        baseUrl: `${instance.url}/api`,
        token,
        transport: 'sse',
        storage: null,
        shareTabs: false,
      });
    const [one, two] = [device(a), device(b)];
    for (const client of [one, two]) closers.push(client.$dismissed.listen(() => {}));
    const stranger = await openStream(b.url, tokenFor('eve'));
    const { job } = await createJob(a.url, token, { type: 'scale.dismiss', title: 'dana only' });
    const worker = createWorkerApi({ baseUrl: `${b.url}/api`, workerKey: WORKER_KEY });
    const claimed = await worker.claim({ types: ['scale.dismiss'], workerId: 'worker-on-b' });
    assert.equal(claimed?.job.id, job.id);
    const waitFor = async (what: string, check: () => boolean) => {
      const deadline = Date.now() + 10_000;
      while (!check()) {
        if (Date.now() > deadline) assert.fail(`timed out waiting for ${what}`);
        await new Promise((r) => setTimeout(r, 20));
      }
    };
    await waitFor('the running job on device two', () => two.$jobs.get()[job.id]?.status === 'running');

    const dismissed = await one.dismiss(job.id);
    assert.equal(dismissed.status, 'running', 'a dismissed running job runs on');
    await waitFor('the dismissal on device two (instance B)', () => two.$dismissed.get().includes(job.id));
    await worker.progress(job.id, claimed?.leaseToken ?? '', { progress: 50 });
    await waitFor('progress after the dismissal', () => two.$jobs.get()[job.id]?.progress === 50);
    assert.equal(two.$jobs.get()[job.id]?.dismissedAt, dismissed.dismissedAt, 'progress keeps it');

    await two.restore(job.id);
    await waitFor('the restore on device one (instance A)', () => !one.$dismissed.get().includes(job.id));
    assert.equal(
      stranger.reader.events.some((event) => event.data.includes(job.id)),
      false,
      'another user never sees the job or its dismissal',
    );
    await worker.complete(job.id, claimed?.leaseToken ?? '', null);
  });

  it('yields one job when instances race to create the same type and scope', async () => {
    const token = tokenFor('grace');
    const answers = await Promise.all(
      Array.from({ length: 24 }, (_, i) =>
        createJob(i % 2 === 0 ? a.url : b.url, token, { type: TYPE, scope: 'raced' }),
      ),
    );
    assert.equal(answers.filter((answer) => answer.created).length, 1, 'exactly one created');
    assert.equal(new Set(answers.map((answer) => answer.job.id)).size, 1, 'every answer names that job');

    const keyed = await Promise.all(
      Array.from({ length: 12 }, (_, i) =>
        fetch(`${(i % 2 === 0 ? a : b).url}/api/jobs`, {
          method: 'POST',
          headers: {
            Authorization: `Bearer ${token}`,
            'Content-Type': 'application/json',
            'Idempotency-Key': 'same-key',
          },
          body: JSON.stringify({ type: TYPE, scope: 'keyed', dedupe: false }),
        }).then(async (response) => ({ status: response.status, body: (await response.json()) as any })),
      ),
    );
    assert.deepEqual(
      keyed.map((answer) => answer.status).filter((status) => status !== 200 && status !== 201),
      [],
    );
    assert.equal(new Set(keyed.map((answer) => answer.body.job.id)).size, 1, 'one job for one key');

    const list = await fetch(`${b.url}/api/jobs?status=pending,running`, {
      headers: { Authorization: `Bearer ${token}` },
    });
    const { jobs } = (await list.json()) as { jobs: Job[] };
    assert.equal(jobs.length, 2, 'one raced job and one keyed job, seen from either instance');
  });
});

describe('listener connections dropped by the database', () => {
  let a: ServerProcess;
  let b: ServerProcess;
  let admin: pg.Client;

  before(async () => {
    [a, b] = (await startInstances(2)) as [ServerProcess, ServerProcess];
    admin = new pg.Client({ connectionString: database.url });
    await admin.connect();
    closers.push(() => admin.end());
  });

  it('loses no event committed while the instances were not listening', async () => {
    const token = tokenFor('barbara');
    const { reader } = await openStream(a.url, token);
    const { job } = await createJob(a.url, token, { type: 'scale.dropped', scope: 'x' });
    const worker = createWorkerApi({ baseUrl: `${b.url}/api`, workerKey: WORKER_KEY });
    const claimed = await worker.claim({ types: ['scale.dropped'], workerId: 'worker-on-b' });
    const lease = claimed?.leaseToken ?? '';
    await reader.until(() => versionsOf([reader], job.id).includes(2), 10_000, 'the claim on A');

    const before = await database.listenerPids();
    assert.ok(before.length >= 2, `both instances listen (${before.length} listeners)`);
    await admin.query('SELECT pg_terminate_backend(pid) FROM unnest($1::int[]) AS pid', [before]);
    for (let step = 1; step <= 5; step++) {
      await worker.progress(job.id, lease, { progress: step * 10 });
    }
    await worker.complete(job.id, lease, null);

    await reader.until(
      () => reader.jobs().some((event) => event.id === job.id && event.status === 'completed'),
      10_000,
      'the events committed while A was not listening',
    );
    assert.deepEqual(versionsOf([reader], job.id), [1, 2, 3, 4, 5, 6, 7, 8]);
    const deadline = Date.now() + 10_000;
    let after = await database.listenerPids();
    // Every instance on this schema listens again (those of the suite above too).
    while (after.filter((pid) => !before.includes(pid)).length < before.length && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      after = await database.listenerPids();
    }
    assert.equal(
      after.filter((pid) => !before.includes(pid)).length,
      before.length,
      'every instance listens again',
    );
  });
});

describe('an instance killed under its clients', () => {
  let a: ServerProcess;
  let b: ServerProcess;
  let balancer: Balancer;

  before(async () => {
    ({ a, b, balancer } = await startBalancedPair());
  });

  it('moves its clients to the other instance, which resumes them from their cursor without a lost event', async () => {
    const token = tokenFor('linus');
    const sdk: JobClient = createJobClient({
      baseUrl: `${balancer.url}/api`,
      token,
      transport: 'sse',
      storage: null,
    });
    const completions: string[] = [];
    sdk.on('completed', (job) => completions.push(job.id));
    closers.push(sdk.$jobs.listen(() => {}));

    const first = await openStream(balancer.url, token);
    const { job } = await createJob(balancer.url, token, { type: FAILOVER_TYPE, scope: 'failover' });
    const worker = createWorkerApi({ baseUrl: `${b.url}/api`, workerKey: WORKER_KEY });
    const claimed = await worker.claim({ types: [FAILOVER_TYPE], workerId: 'worker-on-b' });
    assert.equal(claimed?.job.id, job.id);
    const lease = claimed?.leaseToken ?? '';
    let step = 0;
    const report = async (count: number) => {
      for (let i = 0; i < count; i++) {
        step++;
        await worker.progress(job.id, lease, { progress: step * 5, message: `Step ${step}` });
      }
    };
    await report(5);
    await first.reader.until(
      () => versionsOf([first.reader], job.id).includes(7),
      10_000,
      'the first steps on A',
    );
    assert.equal(balancer.routed[0], a.port, 'the first stream went to A');

    await a.kill();
    await first.reader.ended$();
    await report(5); // while the client is away
    const second = await openStream(balancer.url, token, first.reader.lastId, first.reader.jobs());
    await report(5);
    await worker.complete(job.id, lease, { url: '/reports/failover' });
    await second.reader.until(
      () => second.reader.jobs().some((event) => event.id === job.id && event.status === 'completed'),
      10_000,
      'the completion on B',
    );

    assert.equal(balancer.routed.at(-1), b.port, 'the resumed stream went to B');
    assert.equal(second.reader.ready.length, 1);
    assert.equal(
      second.reader.events.filter((event) => event.event === 'reset' || event.event === 'snapshot').length,
      0,
      'B resumed the cursor A gave: a replay, not a reset',
    );
    // created (1), claimed (2), fifteen progress steps (3–17), completed (18): each once, in order.
    assert.deepEqual(
      versionsOf([first.reader, second.reader], job.id),
      Array.from({ length: 18 }, (_, i) => i + 1),
    );
    assert.ok(
      rising([...cursorsOf(first.reader), ...cursorsOf(second.reader)]),
      'cursors rise across instances',
    );

    const deadline = Date.now() + 15_000;
    while (completions.length === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    assert.deepEqual(completions, [job.id], 'the SDK client followed to B and announced the completion once');
    assert.equal(sdk.$jobs.get()[job.id]?.progress, 100);
  });
});

describe('an instance killed under many clients', () => {
  let a: ServerProcess;
  let b: ServerProcess;
  let balancer: Balancer;

  before(async () => {
    ({ a, b, balancer } = await startBalancedPair());
  });

  it(`moves ${CROWD} clients at once, each resuming its own job without a gap`, async () => {
    const type = 'scale.crowd';
    const users = Array.from({ length: CROWD }, (_, i) => `crowd-${i}`);
    const streams = await Promise.all(users.map((user) => openStream(balancer.url, tokenFor(user))));
    const jobIds: string[] = [];
    for (const user of users) jobIds.push((await createJob(balancer.url, tokenFor(user), { type })).job.id);
    const worker = createWorkerApi({ baseUrl: `${b.url}/api`, workerKey: WORKER_KEY });
    const leases = new Map<string, string>();
    for (let i = 0; i < CROWD; i++) {
      const claimed = await worker.claim({ types: [type], workerId: 'crowd-worker' });
      if (claimed) leases.set(claimed.job.id, claimed.leaseToken);
    }
    assert.equal(leases.size, CROWD);
    const step = async (progress: number) => {
      const results = await worker.progressMany(
        [...leases].map(([id, leaseToken]) => ({ id, leaseToken, progress, message: `${progress}%` })),
      );
      assert.deepEqual(
        results.filter((result) => 'error' in result),
        [],
      );
    };
    await step(10);
    await Promise.all(
      streams.map(({ reader }, i) =>
        reader.until(() => versionsOf([reader], jobIds[i] ?? '').includes(3), 10_000, 'the first step'),
      ),
    );

    await a.kill();
    await Promise.all(streams.map(({ reader }) => reader.ended$()));
    await step(20);
    const resumed = await Promise.all(
      users.map((user, i) =>
        openStream(balancer.url, tokenFor(user), streams[i]?.reader.lastId, streams[i]?.reader.jobs()),
      ),
    );
    await step(30);
    for (const [id, leaseToken] of leases) await worker.complete(id, leaseToken, null);
    await Promise.all(
      resumed.map(({ reader }, i) =>
        reader.until(
          () => reader.jobs().some((event) => event.id === jobIds[i] && event.status === 'completed'),
          15_000,
          'the completion',
        ),
      ),
    );
    for (const [i, id] of jobIds.entries()) {
      const readers = [streams[i]?.reader, resumed[i]?.reader].filter((reader) => reader !== undefined);
      assert.deepEqual(
        versionsOf(readers, id),
        [1, 2, 3, 4, 5, 6],
        `every version of ${users[i]}'s job, once`,
      );
      assert.equal(resumed[i]?.reader.events.filter((event) => event.event === 'reset').length, 0);
    }
  });
});
