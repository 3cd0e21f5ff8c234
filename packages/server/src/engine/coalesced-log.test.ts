import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import type { Job } from '@jobtracker/sdk/wire';
import { SqliteStore } from '../storage/sqlite/sqlite-store.js';
import type { LiveEvent } from '../stream/hub.js';
import { JobEngine } from './engine.js';

const dir = mkdtempSync(join(tmpdir(), 'jobtracker-coalesced-'));
after(() => rmSync(dir, { recursive: true, force: true }));
let files = 0;

async function open() {
  const store = new SqliteStore({ url: `file:${join(dir, `c${files++}.db`)}` });
  await store.migrate();
  const engine = new JobEngine({ progressFlushMs: 60_000, leaseCheckIntervalMs: 60_000, store });
  await engine.start();
  const seen: LiveEvent[] = [];
  engine.hub.subscribe('alice', (event) => seen.push(event));
  const close = async () => {
    await engine.stop();
    await store.close();
  };
  return { engine, store, seen, close };
}

async function claimNext(engine: JobEngine, type: string) {
  const claim = await engine.claim({ types: [type], workerId: 'w' });
  assert.ok(claim, `a ${type} job to claim`);
  return claim;
}

describe('the change log under many progress reports (one process)', () => {
  it('keeps one row per job per flush: its last progress report, and every status change', async () => {
    const { engine, store, seen, close } = await open();
    const from = engine.cursor;
    await engine.create('alice', { type: 'a' });
    await engine.create('alice', { type: 'b' });
    const a = await claimNext(engine, 'a');
    const b = await claimNext(engine, 'b');
    for (let p = 1; p <= 5; p++) {
      await engine.progress(a.job.id, a.leaseToken, { progress: p });
      await engine.progress(b.job.id, b.leaseToken, { progress: p * 2 });
    }
    await engine.flush();
    for (let p = 6; p <= 8; p++) await engine.progress(a.job.id, a.leaseToken, { progress: p });
    // A status change commits what is unflushed with it: a's reports before it are one row too.
    await engine.complete(b.job.id, b.leaseToken, null);
    await engine.progress(a.job.id, a.leaseToken, { progress: 9, message: 'last' });
    await engine.flush();

    const rows = await store.eventsAfter('alice', from, Number.MAX_SAFE_INTEGER, 1000);
    const short = (id: string) => (id === a.job.id ? 'a' : 'b');
    assert.deepEqual(
      rows.map((row) => [short(row.jobId), row.version, row.progressFrom]),
      [
        ['a', 1, null],
        ['b', 1, null],
        ['a', 2, null],
        ['b', 2, null],
        ['a', 7, 2],
        ['b', 7, 2],
        ['a', 10, 7],
        ['b', 8, null],
        ['a', 11, 10],
      ],
    );
    const cursors = rows.map((row) => row.cursor);
    assert.deepEqual(
      cursors,
      [...cursors].sort((x, y) => x - y),
      'cursors rise',
    );
    for (const row of rows) {
      const published = seen.find((event) => event.cursor === row.cursor);
      assert.equal(row.data, published?.data, 'a row is the event published under its cursor');
      const first = seen.find(
        (event) => event.jobId === row.jobId && event.version === (row.progressFrom ?? 0) + 1,
      );
      if (row.progressFrom !== null && row.progressFrom < row.version - 1)
        assert.equal(row.coalescedFrom, first?.cursor, 'it names the first report it stands for');
      else assert.equal(row.coalescedFrom, null);
    }
    await close();
  });

  it('brings a client resuming from any cursor it saw to the current jobs, with deltas it can apply', async () => {
    const { engine, seen, close } = await open();
    await engine.create('alice', { type: 'r' });
    await engine.create('alice', { type: 'r', scope: 'two' });
    const one = await claimNext(engine, 'r');
    const two = await claimNext(engine, 'r');
    for (let p = 1; p <= 12; p++) {
      await engine.progress(one.job.id, one.leaseToken, { progress: p });
      if (p % 3 === 0 && p < 10)
        await engine.progress(two.job.id, two.leaseToken, { progress: p, message: `${p}` });
      if (p % 4 === 0) await engine.flush();
      if (p === 10) await engine.release(two.job.id, two.leaseToken);
    }
    await engine.flush();
    const current = new Map<string, Job>();
    for (const id of [one.job.id, two.job.id]) current.set(id, await engine.get('alice', id));

    for (const [index, event] of seen.entries()) {
      // What the client holds at this cursor: every event up to it.
      const held = new Map<string, Job>();
      for (const before of seen.slice(0, index + 1)) held.set(before.jobId, JSON.parse(before.data));
      const changes = await engine.changesSince('alice', event.cursor);
      assert.equal(changes.reset, false);
      const touched = new Set<string>();
      for (const change of changes.events) {
        const mine = held.get(change.jobId);
        const isDelta =
          change.progressFrom !== null &&
          (change.coalescedFrom === null || change.coalescedFrom > event.cursor);
        if (isDelta && !touched.has(change.jobId))
          assert.equal(mine?.version, change.progressFrom, `a delta from ${event.cursor} applies`);
        touched.add(change.jobId);
        held.set(change.jobId, JSON.parse(change.data));
      }
      assert.deepEqual(held, current, `resumed from ${event.cursor} (event ${index})`);
    }
    await close();
  });
});
