import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { openTestSchema } from '@jobtracker/test-support/postgres';
import { eventually, SseReader } from '@jobtracker/test-support/server';
import { createRunner, type JobRunner } from '../runner/runner.js';
import { PgStore } from '../storage/pg/pg-store.js';
import { openCancelStream } from '../worker-api/cancel-stream.js';
import { JobEngine } from './engine.js';

// Two engines on one PostgreSQL schema, as two API instances would be: what one decides, the other
// must respect, because every change is decided on the row locked in the database.

let database: Awaited<ReturnType<typeof openTestSchema>>;
const stores: PgStore[] = [];
const engines: JobEngine[] = [];
let clock = Date.now();

async function openEngine(): Promise<JobEngine> {
  const store = new PgStore({ url: database.url, schema: database.schema, onError: () => {} });
  stores.push(store);
  await store.migrate();
  const engine = new JobEngine({
    store,
    now: () => clock,
    leaseCheckIntervalMs: 3_600_000,
    onError: () => {},
  });
  engines.push(engine);
  await engine.start();
  return engine;
}

let a: JobEngine;
let b: JobEngine;

before(async () => {
  database = await openTestSchema();
  a = await openEngine();
  b = await openEngine();
});

after(async () => {
  for (const engine of engines) await engine.stop();
  for (const store of stores) await store.close();
  await database.drop();
});

describe('two engines on one PostgreSQL database', () => {
  it('never hands one job to two workers when both claim at once', async () => {
    const created = [];
    for (let i = 0; i < 10; i++)
      created.push((await a.create('ann', { type: 'claim.race', scope: `${i}` })).job);
    const claims = await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        (i % 2 === 0 ? a : b).claim({ types: ['claim.race'], workerId: `w${i}` }),
      ),
    );
    const claimed = claims.flatMap((claim) => (claim ? [claim.job.id] : []));
    assert.equal(claimed.length, 10, 'every pending job claimed');
    assert.equal(new Set(claimed).size, 10, 'none twice');
    assert.deepEqual(new Set(claimed), new Set(created.map((job) => job.id)));
  });

  it('re-queues an expired lease once when both engines recover it at the same time', async () => {
    const { job } = await a.create('bob', { type: 'lease.race', maxAttempts: 3 });
    const claim = await b.claim({ types: ['lease.race'], workerId: 'w', leaseMs: 1000 });
    assert.equal(claim?.job.id, job.id);
    clock += 2000;
    const recovered = await Promise.all([a.recoverExpiredLeases(), b.recoverExpiredLeases()]);
    assert.equal(recovered[0] + recovered[1], 1, 'one engine re-queued it');
    const after = await a.getRecord(job.id);
    assert.deepEqual([after?.status, after?.attempt, after?.version], ['pending', 1, 3]);
  });

  it('keeps a job whose lease was extended through the other engine', async () => {
    const { job } = await a.create('cyd', { type: 'lease.kept' });
    const claim = await a.claim({ types: ['lease.kept'], workerId: 'w', leaseMs: 1000 });
    clock += 900;
    await b.heartbeat(job.id, claim?.leaseToken ?? '', 5000);
    clock += 900;
    assert.equal(await a.recoverExpiredLeases(), 0);
    assert.equal((await a.getRecord(job.id))?.status, 'running');
    await assert.rejects(
      b.progress(job.id, 'a-stale-lease', { progress: 1 }),
      (error: Error & { code?: string }) => error.code === 'lease_lost',
    );
  });

  it('delivers each change to both engines’ subscribers in the same cursor order', async () => {
    const seen = { a: [] as number[], b: [] as number[] };
    const stopA = a.hub.subscribe('dora', (event) => seen.a.push(event.cursor));
    const stopB = b.hub.subscribe('dora', (event) => seen.b.push(event.cursor));
    try {
      await Promise.all(
        Array.from({ length: 10 }, (_, i) =>
          (i % 2 === 0 ? a : b).create('dora', { type: 'order', scope: `${i}` }),
        ),
      );
      await eventually(() => seen.a.length === 10 && seen.b.length === 10, 5000, 'both engines to deliver');
      assert.deepEqual(seen.a, seen.b);
      assert.deepEqual(
        seen.a,
        [...seen.a].sort((x, y) => x - y),
      );
      const changes = await b.changesSince('dora', seen.a[4] ?? 0);
      assert.deepEqual(
        changes.events.map((event) => event.cursor),
        seen.a.slice(5),
        'a cursor from one engine resumes on the other',
      );
    } finally {
      stopA();
      stopB();
    }
  });

  it('stops a handler running under one engine when the job is cancelled through the other', async () => {
    const runner: JobRunner = createRunner(b, { onError: () => {}, pollMs: 60_000 });
    let aborted = false;
    runner.handle('cancel.remote', async (_job, { signal }) => {
      await new Promise<void>((resolve) => signal.addEventListener('abort', () => resolve(), { once: true }));
      aborted = true;
    });
    runner.start();
    try {
      const { job } = await a.create('eve', { type: 'cancel.remote' });
      await eventually(
        async () => (await a.getRecord(job.id))?.status === 'running',
        5000,
        'the runner under B to take the job A created',
      );
      await a.cancel('eve', job.id);
      await eventually(() => aborted, 5000, 'the handler under B to be aborted');
    } finally {
      await runner.stop();
    }
  });

  it('commits progress reports that arrive together in one transaction, each answered on its own, one log row per job', async () => {
    const leases = [];
    for (let i = 0; i < 10; i++) {
      await a.create('fay', { type: 'group.commit', scope: `${i}` });
      const claim = await a.claim({ types: ['group.commit'], workerId: 'w' });
      if (claim) leases.push({ id: claim.job.id, leaseToken: claim.leaseToken, version: claim.job.version });
    }
    const store = stores[0] as PgStore;
    const transaction = store.transaction.bind(store);
    let transactions = 0;
    store.transaction = (work) => {
      transactions++;
      return transaction(work);
    };
    try {
      const calls = leases.flatMap((lease) =>
        [10, 20, 30, 40, 50].map((progress) => ({ ...lease, progress })),
      );
      const answers = await Promise.allSettled(
        calls.map((call) => a.progress(call.id, call.leaseToken, { progress: call.progress })),
      );
      const refused = await a.progress(leases[0]?.id ?? '', 'not-the-lease', {}).catch((error) => error.code);
      assert.equal(refused, 'lease_lost');
      assert.deepEqual(
        answers.filter((answer) => answer.status === 'rejected'),
        [],
      );
      assert.ok(transactions < calls.length / 2, `${calls.length} reports in ${transactions} transactions`);
      let rows = 0;
      for (const lease of leases) {
        const record = await a.getRecord(lease.id);
        assert.deepEqual([record?.progress, record?.version], [50, lease.version + 5]);
        const events = (await store.eventsAfterAll(0, 10_000)).filter((event) => event.jobId === lease.id);
        const reports = events.filter((event) => event.progressFrom !== null);
        assert.deepEqual(
          events.slice(0, -reports.length).map((event) => [event.version, event.progressFrom]),
          Array.from({ length: lease.version }, (_, i) => [i + 1, null]),
          'creation and start as they were',
        );
        assert.deepEqual(
          reports.map((event) => event.progressFrom),
          [lease.version, ...reports.slice(0, -1).map((event) => event.version)],
          'each logged report stands for every one since the row before it',
        );
        assert.equal(reports.at(-1)?.version, lease.version + 5);
        assert.ok(
          reports.every((event) => event.coalescedFrom === null),
          'nothing was published in between',
        );
        rows += reports.length;
      }
      assert.ok(
        rows <= transactions * leases.length && rows < calls.length,
        `${rows} rows for ${calls.length} reports`,
      );
    } finally {
      store.transaction = transaction;
    }
  });

  it('creates one reported job when two instances get the same externalId at once, and either fences its writes', async () => {
    const answers = await Promise.all(
      Array.from({ length: 6 }, (_, i) =>
        (i % 2 === 0 ? a : b).report({
          owner: 'ann',
          type: 'report.race',
          scope: `s${i}`,
          externalId: 'x-1',
          status: 'running',
        }),
      ),
    );
    assert.equal(new Set(answers.map((answer) => answer.job.id)).size, 1, 'one job');
    assert.equal(answers.filter((answer) => answer.created).length, 1, 'created once');
    const [{ job, reportToken }] = answers as [(typeof answers)[0]];
    assert.ok(reportToken, 'a report token');
    await b.progress(job.id, reportToken, { progress: 30 });
    await assert.rejects(a.progress(job.id, 'wrong', { progress: 40 }), { code: 'lease_lost' });
    assert.equal((await a.getRecord(job.id))?.progress, 30);
  });

  it('streams to a host on one instance the cancel its user made on the other, at once', async () => {
    const { job } = await a.report({
      owner: 'ann',
      type: 'report.cancel',
      externalId: 'x-2',
      status: 'running',
    });
    const controller = new AbortController();
    const reader = new SseReader(
      openCancelStream(a, undefined, controller.signal, {
        heartbeatMs: 60_000,
        retryMs: 1000,
        pollMs: 60_000,
      }),
    );
    try {
      await reader.until(() => reader.ready.length === 1, 5000, 'ready');
      await b.cancel('ann', job.id);
      await reader.until(() => reader.events.some((event) => event.event === 'cancel'), 3000, 'the cancel');
      assert.deepEqual(JSON.parse(reader.events[0]?.data ?? '{}'), {
        id: job.id,
        externalId: 'x-2',
        owner: 'ann',
      });
    } finally {
      controller.abort();
    }
  });
});
