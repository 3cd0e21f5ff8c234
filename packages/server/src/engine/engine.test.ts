import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { ApiError } from '../http/errors.js';
import { SqliteStore } from '../storage/sqlite/sqlite-store.js';
import type { LiveEvent } from '../stream/hub.js';
import { JobEngine, type JobEngineOptions } from './engine.js';

const dir = mkdtempSync(join(tmpdir(), 'jobtracker-engine-'));
after(() => rmSync(dir, { recursive: true, force: true }));
let files = 0;

async function open(options: Partial<JobEngineOptions> & { url?: string } = {}) {
  const store = new SqliteStore({ url: options.url ?? `file:${join(dir, `e${files++}.db`)}` });
  await store.migrate();
  const engine = new JobEngine({ progressFlushMs: 60_000, leaseCheckIntervalMs: 60_000, ...options, store });
  await engine.start();
  const close = async () => {
    await engine.stop();
    await store.close();
  };
  return { engine, store, close };
}

const code = (error: unknown) =>
  error instanceof ApiError ? `${error.status} ${error.code}` : String(error);

async function startJob(engine: JobEngine, owner = 'alice', scope = 's') {
  const { job } = await engine.create(owner, { type: 'gen', scope });
  const claim = await engine.claim({ types: ['gen'], workerId: 'w' });
  assert.ok(claim && claim.job.id === job.id, 'the job is claimed');
  return claim;
}

describe('job engine', () => {
  it('returns the active job for 50 concurrent creates of one type and scope', async () => {
    const { engine, store, close } = await open();
    const outcomes = await Promise.all(
      Array.from({ length: 50 }, () => engine.create('alice', { type: 'gen', scope: 'doc-1' })),
    );
    assert.equal(outcomes.filter((o) => o.created).length, 1);
    assert.equal(new Set(outcomes.map((o) => o.job.id)).size, 1);
    assert.ok(
      outcomes.filter((o) => !o.created).every((o) => o.reason === 'active_duplicate'),
      'every other answer is the active duplicate',
    );
    assert.equal((await store.listJobs('alice', { limit: 100 })).length, 1);
    const other = await engine.create('bob', { type: 'gen', scope: 'doc-1' });
    assert.equal(other.created, true, 'dedupe is per owner');
    const free = await engine.create('alice', { type: 'gen', scope: 'doc-1', dedupe: false });
    assert.equal(free.created, true, 'dedupe: false opts out');
    await close();
  });

  it('yields one job through the unique index when another process created it unseen', async () => {
    const url = `file:${join(dir, 'shared.db')}`;
    const a = await open({ url });
    const b = await open({ url });
    const theirs = await b.engine.create('alice', { type: 'gen', scope: 'x' });
    // Engine a's cache and its read both miss b's job, as in a race between two processes.
    const findActiveByKey = a.store.findActiveByKey.bind(a.store);
    let misses = 1;
    a.store.findActiveByKey = (owner, key) =>
      misses-- > 0 ? Promise.resolve(null) : findActiveByKey(owner, key);
    const ours = await a.engine.create('alice', { type: 'gen', scope: 'x' });
    assert.deepEqual([ours.created, ours.reason, ours.job.id], [false, 'active_duplicate', theirs.job.id]);
    assert.equal((await a.store.listJobs('alice', { limit: 10 })).length, 1);
    await a.close();
    await b.close();
  });

  it('keeps dedupe and claims working across a restart for jobs of one type in several scopes', async () => {
    const url = `file:${join(dir, 'restart-keys.db')}`;
    const first = await open({ url });
    const one = await first.engine.create('alice', { type: 'gen', scope: 'doc-1' });
    const two = await first.engine.create('alice', { type: 'gen', scope: 'doc-2' });
    await first.close();
    const again = await open({ url });
    const claims = [
      await again.engine.claim({ types: ['gen'], workerId: 'w' }),
      await again.engine.claim({ types: ['gen'], workerId: 'w' }),
    ];
    assert.deepEqual(new Set(claims.map((claim) => claim?.job.id)), new Set([one.job.id, two.job.id]));
    const duplicate = await again.engine.create('alice', { type: 'gen', scope: 'doc-1' });
    assert.deepEqual([duplicate.created, duplicate.job.id], [false, one.job.id]);
    await again.close();
  });

  it('answers two cancels of one job that race with the same cancelled job', async () => {
    const { engine, close } = await open();
    const { job } = await engine.create('alice', { type: 'gen', scope: 'twice' });
    const answers = await Promise.allSettled([
      engine.cancel('alice', job.id),
      engine.cancel('alice', job.id),
    ]);
    assert.deepEqual(
      answers.map((answer) =>
        answer.status === 'fulfilled' ? [answer.value.status, answer.value.version] : code(answer.reason),
      ),
      [
        ['cancelled', job.version + 1],
        ['cancelled', job.version + 1],
      ],
    );
    await close();
  });

  it('answers a repeated Idempotency-Key with its job, and a different body with 422', async () => {
    const { engine, close } = await open();
    const body = { type: 'gen', scope: null, input: { b: 1, a: [1, 2] }, dedupe: false };
    const outcomes = await Promise.all(
      Array.from({ length: 50 }, () => engine.create('alice', body, 'key-1')),
    );
    assert.equal(outcomes.filter((o) => o.created).length, 1);
    assert.equal(new Set(outcomes.map((o) => o.job.id)).size, 1);
    assert.ok(
      outcomes.filter((o) => !o.created).every((o) => o.reason === 'idempotency_key'),
      "every other answer is the key's job",
    );
    const reordered = await engine.create(
      'alice',
      { dedupe: false, input: { a: [1, 2], b: 1 }, type: 'gen', scope: null },
      'key-1',
    );
    assert.equal(reordered.job.id, outcomes[0]?.job.id, 'key order in the body does not matter');
    await assert.rejects(
      engine.create('alice', { ...body, input: { b: 2 } }, 'key-1'),
      (e) => code(e) === '422 idempotency_key_reused',
    );
    const bobs = await engine.create('bob', body, 'key-1');
    assert.equal(bobs.created, true, 'keys are per owner');
    await close();
  });

  it('publishes every progress change at once, commits them in one transaction per flush, and logs the last', async () => {
    const { engine, store, close } = await open();
    const claim = await startJob(engine);
    const seen: LiveEvent[] = [];
    engine.hub.subscribe('alice', (event) => seen.push(event));
    const transaction = store.transaction.bind(store);
    let transactions = 0;
    store.transaction = (work) => {
      transactions++;
      return transaction(work);
    };
    const logged = async () => (await store.eventsAfter('alice', 0, Number.MAX_SAFE_INTEGER, 1000)).length;
    const before = await logged();
    for (let p = 1; p <= 40; p++) await engine.progress(claim.job.id, claim.leaseToken, { progress: p });
    assert.equal(seen.length, 40);
    assert.deepEqual(
      seen.map((e) => e.version),
      Array.from({ length: 40 }, (_, i) => claim.job.version + i + 1),
    );
    assert.ok(
      seen.every((e, i) => i === 0 || e.cursor > (seen[i - 1] as LiveEvent).cursor),
      'cursors rise',
    );
    assert.equal(transactions, 0, 'nothing committed before the flush');
    assert.equal((await store.getJob(claim.job.id))?.progress, null);
    await engine.flush();
    assert.equal(transactions, 1);
    assert.equal((await store.getJob(claim.job.id))?.progress, 40);
    assert.deepEqual(
      seen.map((e) => [e.progressFrom, e.coalescedFrom]),
      seen.map((e) => [e.version - 1, null]),
      'each one published as a progress report on top of the one before',
    );
    const rows = await store.eventsAfter('alice', 0, Number.MAX_SAFE_INTEGER, 1000);
    assert.equal(rows.length, before + 1, 'one log row for the job in this flush');
    assert.deepEqual(
      [rows.at(-1)?.version, rows.at(-1)?.progressFrom, rows.at(-1)?.coalescedFrom, rows.at(-1)?.cursor],
      [claim.job.version + 40, claim.job.version, seen[0]?.cursor, seen.at(-1)?.cursor],
      'the last report, standing for all forty since the claim',
    );
    await close();
  });

  it('goes on taking changes while a flush is being written, and replays what that flush holds', async () => {
    const { engine, store, close } = await open();
    const claim = await startJob(engine);
    const from = engine.cursor;
    for (let p = 1; p <= 5; p++) await engine.progress(claim.job.id, claim.leaseToken, { progress: p });
    const transaction = store.transaction.bind(store);
    let release = () => {};
    const held = new Promise<void>((resolve) => {
      release = resolve;
    });
    let entered = () => {};
    const inside = new Promise<void>((resolve) => {
      entered = resolve;
    });
    store.transaction = (work) =>
      transaction(async (tx) => {
        entered();
        await held;
        return work(tx);
      });
    const flushed = engine.flush();
    await inside;
    const during = await engine.progress(claim.job.id, claim.leaseToken, {
      progress: 6,
      message: 'meanwhile',
    });
    assert.equal(during.progress, 6, 'a change is taken while the flush is held');
    const replay = await engine.changesSince('alice', from);
    assert.deepEqual(
      replay.events.map((event) => event.version),
      Array.from({ length: 6 }, (_, i) => claim.job.version + i + 1),
      'the held flush’s events and the later one are all replayed',
    );
    release();
    await flushed;
    store.transaction = transaction;
    await engine.flush();
    assert.equal((await store.getJob(claim.job.id))?.progress, 6);
    const logged = await store.eventsAfter('alice', from, Number.MAX_SAFE_INTEGER, 100);
    assert.deepEqual(
      logged.map((event) => [event.version, event.progressFrom]),
      [
        [claim.job.version + 5, claim.job.version],
        [claim.job.version + 6, claim.job.version + 5],
      ],
      'one row per job per flush: the last of the held flush, then the later one',
    );
    await close();
  });

  it('commits one job’s progress at most once a flush period, however long a flush takes', async () => {
    const period = 150;
    const { engine, store, close } = await open({ progressFlushMs: period });
    const claim = await startJob(engine);
    const transaction = store.transaction.bind(store);
    const commits: number[] = [];
    let slow = true;
    store.transaction = (work) =>
      transaction(async (tx) => {
        const result = await work(tx);
        // The first flush is slow (as under load), the ones after it quick.
        if (slow) await new Promise((resolve) => setTimeout(resolve, 2 * period));
        slow = false;
        return result;
      }).then((result) => {
        commits.push(performance.now());
        return result;
      });
    const started = performance.now();
    let p = 0;
    while (performance.now() - started < 6 * period) {
      await engine.progress(claim.job.id, claim.leaseToken, { progress: ++p / 10 });
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    await engine.flush();
    store.transaction = transaction;
    const gaps = commits.slice(1).map((at, i) => at - (commits[i] as number));
    assert.ok(commits.length >= 3, `${commits.length} flushes`);
    // Timers may fire a hair early as performance.now() measures them.
    for (const gap of gaps.slice(0, -1))
      assert.ok(gap >= period - 3, `commits ${gaps.map(Math.round)} ms apart`);
    await close();
  });

  it('keeps what a failed flush took, and writes it with the next one', async () => {
    const { engine, store, close } = await open();
    const claim = await startJob(engine);
    const from = engine.cursor;
    for (let p = 1; p <= 3; p++) await engine.progress(claim.job.id, claim.leaseToken, { progress: p });
    const transaction = store.transaction.bind(store);
    store.transaction = () => Promise.reject(new Error('disk full'));
    await assert.rejects(engine.flush(), /disk full/);
    store.transaction = transaction;
    await engine.progress(claim.job.id, claim.leaseToken, { progress: 4 });
    await engine.flush();
    assert.equal((await store.getJob(claim.job.id))?.progress, 4);
    const logged = await store.eventsAfter('alice', from, Number.MAX_SAFE_INTEGER, 100);
    assert.deepEqual(
      logged.map((event) => [event.version, event.progressFrom]),
      [[claim.job.version + 4, claim.job.version]],
      'the failed flush’s reports and the next one, as one row',
    );
    await close();
  });

  it('commits a status change at once, with the progress before it', async () => {
    const { engine, store, close } = await open();
    const claim = await startJob(engine);
    await engine.progress(claim.job.id, claim.leaseToken, { progress: 60, message: 'Drafting' });
    await engine.complete(claim.job.id, claim.leaseToken, { url: '/programs/1' });
    const row = await store.getJob(claim.job.id);
    assert.deepEqual(
      [row?.status, row?.progress, row?.message, row?.result],
      ['completed', 100, 'Drafting', { url: '/programs/1' }],
    );
    await close();
  });

  it('replays after a cursor once, in order: every unflushed event, of the flushed ones the log kept', async () => {
    const { engine, close } = await open();
    const claim = await startJob(engine);
    const from = engine.cursor;
    for (let p = 10; p <= 30; p += 10) await engine.progress(claim.job.id, claim.leaseToken, { progress: p });
    await engine.flush();
    await engine.progress(claim.job.id, claim.leaseToken, { progress: 40 });
    const other = await engine.create('alice', { type: 'other' });
    const changes = await engine.changesSince('alice', from);
    assert.equal(changes.reset, false);
    const versions = changes.events.map((e) => [e.jobId, e.version, e.progressFrom]);
    assert.deepEqual(versions, [
      [claim.job.id, claim.job.version + 3, claim.job.version],
      [claim.job.id, claim.job.version + 4, claim.job.version + 3],
      [other.job.id, 1, null],
    ]);
    assert.equal(changes.cursor, engine.cursor);
    assert.deepEqual((await engine.changesSince('alice', engine.cursor)).events, []);
    assert.deepEqual((await engine.changesSince('bob', from)).events, [], 'only the owner’s events');
    await close();
  });

  it('tells a client whose cursor fell out of the log, or never was in it, to reset', async () => {
    let now = Date.now();
    const { engine, close } = await open({ now: () => now, eventRetentionMs: 1000 });
    const { job } = await engine.create('alice', { type: 'gen' });
    const old = engine.cursor;
    now += 5000;
    await engine.create('alice', { type: 'gen2' });
    await engine.prune();
    assert.equal((await engine.changesSince('alice', old - 1)).reset, true);
    assert.equal((await engine.changesSince('alice', engine.cursor + 1_000_000)).reset, true);
    assert.equal((await engine.changesSince('alice', old)).reset, false);
    assert.ok(
      (await engine.snapshot('alice')).jobs.some((j) => j.id === job.id),
      'the snapshot holds the job',
    );
    await close();
  });

  it('re-queues a job whose lease expired, fences the old worker out, and fails it after the last attempt', async () => {
    let now = Date.now();
    const { engine, close } = await open({ now: () => now, defaultLeaseMs: 1000 });
    const { job } = await engine.create('alice', { type: 'gen', maxAttempts: 2 });
    const first = await engine.claim({ types: ['gen'], workerId: 'w1' });
    assert.ok(first, 'the first claim got a job');
    now += 999;
    assert.equal(await engine.recoverExpiredLeases(), 0);
    now += 2;
    assert.equal(await engine.recoverExpiredLeases(), 1);
    const requeued = await engine.get('alice', job.id);
    assert.deepEqual([requeued.status, requeued.attempt], ['pending', 1]);
    assert.match(requeued.message ?? '', /attempt 2 of 2/);
    await assert.rejects(
      engine.progress(job.id, first.leaseToken, { progress: 5 }),
      (e) => code(e) === '409 lease_lost',
    );
    const second = await engine.claim({ types: ['gen'], workerId: 'w2' });
    assert.equal(second?.job.attempt, 2);
    await assert.rejects(
      engine.complete(job.id, first.leaseToken, null),
      (e) => code(e) === '409 lease_lost',
    );
    await engine.heartbeat(job.id, second?.leaseToken ?? '', 5000);
    now += 4000;
    assert.equal(await engine.recoverExpiredLeases(), 0, 'a heartbeat extends the lease');
    now += 2000;
    assert.equal(await engine.recoverExpiredLeases(), 1);
    const failed = await engine.get('alice', job.id);
    assert.deepEqual(
      [failed.status, failed.error?.code, failed.error?.retryable],
      ['failed', 'worker_lost', true],
    );
    await close();
  });

  it('recovers leases that expired while the server was down', async () => {
    const url = `file:${join(dir, 'restart.db')}`;
    let now = Date.now();
    const first = await open({ url, now: () => now, defaultLeaseMs: 1000 });
    const claim = await startJob(first.engine);
    await first.engine.progress(claim.job.id, claim.leaseToken, { progress: 30 });
    const liveCursor = first.engine.cursor;
    // A crash: nothing is flushed or stopped.
    now += 60_000;
    const second = await open({ url, now: () => now });
    const job = await second.engine.get('alice', claim.job.id);
    assert.deepEqual([job.status, job.attempt, job.progress], ['pending', 1, null]);
    assert.ok(second.engine.cursor > liveCursor, 'cursors after a restart are above every cursor seen live');
    const lost = await second.engine.changesSince('alice', liveCursor);
    assert.equal(lost.reset, true, 'a cursor whose events died with the process gets a fresh snapshot');
    const snapshot = await second.engine.snapshot('alice');
    assert.equal((await second.engine.changesSince('alice', snapshot.cursor)).reset, false);
    await first.store.close();
    await second.close();
  });

  it('cancels pending and running jobs, answers a repeated cancel unchanged, and refuses finished ones', async () => {
    const { engine, close } = await open();
    const pending = await engine.create('alice', { type: 'p' });
    assert.equal((await engine.cancel('alice', pending.job.id)).status, 'cancelled');
    const again = await engine.cancel('alice', pending.job.id);
    assert.deepEqual([again.status, again.version], ['cancelled', 2]);
    const claim = await startJob(engine);
    const stopped: string[] = [];
    engine.onChange((job) => job.status === 'cancelled' && stopped.push(job.id));
    await engine.cancel('alice', claim.job.id);
    assert.deepEqual(stopped, [claim.job.id]);
    await assert.rejects(
      engine.progress(claim.job.id, claim.leaseToken, { progress: 1 }),
      (e) => code(e) === '409 job_cancelled',
    );
    await assert.rejects(engine.cancel('bob', claim.job.id), (e) => code(e) === '404 not_found');
    const done = await startJob(engine, 'alice', 'done');
    await engine.complete(done.job.id, done.leaseToken, null);
    await assert.rejects(engine.cancel('alice', done.job.id), (e) => code(e) === '409 invalid_transition');
    await close();
  });

  it('retries a failed job as a new job linked to it, and refuses to retry an active one', async () => {
    const { engine, close } = await open();
    const claim = await startJob(engine);
    await assert.rejects(engine.retry('alice', claim.job.id), (e) => code(e) === '409 invalid_transition');
    await engine.fail(claim.job.id, claim.leaseToken, { message: 'boom', retryable: true });
    const retried = await engine.retry('alice', claim.job.id);
    assert.equal(retried.created, true);
    assert.deepEqual(
      [retried.job.retryOf, retried.job.type, retried.job.scope, retried.job.status],
      [claim.job.id, 'gen', 's', 'pending'],
    );
    const twice = await engine.retry('alice', claim.job.id);
    assert.deepEqual(
      [twice.created, twice.job.id],
      [false, retried.job.id],
      'a second retry finds the first',
    );
    assert.equal((await engine.get('alice', claim.job.id)).status, 'failed', 'the failed job stays failed');
    await assert.rejects(engine.retry('bob', claim.job.id), (e) => code(e) === '404 not_found');
    await close();
  });

  it('answers an unchanged owner cursor from memory', async () => {
    const { engine, store, close } = await open();
    await engine.create('alice', { type: 'gen' });
    const cursor = await engine.ownerCursor('alice');
    const original = store.ownerMaxCursor.bind(store);
    let reads = 0;
    store.ownerMaxCursor = (owner: string) => {
      reads++;
      return original(owner);
    };
    for (let i = 0; i < 5; i++) assert.equal(await engine.ownerCursor('alice'), cursor);
    assert.equal(reads, 0);
    await close();
  });
});
