import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { StoredEvent } from '../../storage/store.js';
import { runningJob } from '../../testing/job-records.js';
import { UnflushedChanges } from './unflushed-changes.js';

const event = (cursor: number, jobId = 'a', ownerId = 'alice'): StoredEvent => ({
  cursor,
  ownerId,
  jobId,
  version: cursor,
  data: '{}',
  createdAt: 0,
  progressFrom: null,
  coalescedFrom: null,
});
const cursors = (events: readonly StoredEvent[]) => events.map((e) => e.cursor);

describe('unflushed changes (local mode’s write-behind)', () => {
  it('keeps the latest version of each row with the version the database holds', () => {
    const unflushed = new UnflushedChanges();
    assert.equal(unflushed.isEmpty, true);
    unflushed.add({ record: runningJob({ id: 'a', version: 3 }), storedVersion: 2 }, event(1));
    unflushed.add({ record: runningJob({ id: 'a', version: 4 }), storedVersion: 2 }, event(2));
    unflushed.add({ record: runningJob({ id: 'b', version: 2 }), storedVersion: 2 }, null);
    assert.equal(unflushed.isEmpty, false);
    assert.equal(unflushed.storedVersionOf('a'), 2);
    assert.equal(unflushed.storedVersionOf('c'), undefined);
    const pending = unflushed.pending('b');
    assert.deepEqual(
      pending.rows.map((row) => [row.record.id, row.record.version]),
      [['a', 4]],
    );
    assert.deepEqual(cursors(pending.events), [1, 2]);
    unflushed.clear();
    assert.equal(unflushed.isEmpty, true);
  });

  it('keeps a flush’s events visible to replays until it is over', () => {
    const unflushed = new UnflushedChanges();
    unflushed.add({ record: runningJob({ id: 'a', version: 3 }), storedVersion: 2 }, event(1));
    const taken = unflushed.take();
    assert.deepEqual(cursors(taken?.events ?? []), [1]);
    assert.equal(unflushed.isEmpty, true);
    assert.equal(unflushed.take(), null, 'nothing left to take');
    unflushed.add({ record: runningJob({ id: 'a', version: 4 }), storedVersion: 3 }, event(2));
    assert.deepEqual(cursors(unflushed.unlogged()), [1, 2], 'the flush’s events first');
    unflushed.flushed();
    assert.deepEqual(cursors(unflushed.unlogged()), [2]);
  });

  it('puts back what a failed flush took, under the changes made since, with its stored version', () => {
    const unflushed = new UnflushedChanges();
    unflushed.add({ record: runningJob({ id: 'a', version: 3 }), storedVersion: 2 }, event(1));
    unflushed.add({ record: runningJob({ id: 'b', version: 3 }), storedVersion: 2 }, event(2, 'b'));
    const taken = unflushed.take();
    assert.ok(taken, 'the flush took the changes');
    unflushed.add({ record: runningJob({ id: 'a', version: 4 }), storedVersion: 3 }, event(3));
    unflushed.putBack(taken);
    const pending = unflushed.pending();
    assert.deepEqual(
      pending.rows.map((row) => [row.record.id, row.record.version, row.storedVersion]),
      [
        ['a', 4, 2],
        ['b', 3, 2],
      ],
    );
    assert.deepEqual(cursors(pending.events), [1, 2, 3]);
    assert.deepEqual(cursors(unflushed.unlogged()), [1, 2, 3], 'nothing is in flight any more');
  });

  it('answers one owner’s unlogged events, in flight first, through a flush and a failed one', () => {
    const unflushed = new UnflushedChanges();
    unflushed.add({ record: runningJob({ id: 'a', version: 3 }), storedVersion: 2 }, event(1));
    unflushed.add({ record: runningJob({ id: 'b', version: 3 }), storedVersion: 2 }, event(2, 'b', 'bob'));
    const taken = unflushed.take();
    assert.ok(taken, 'the flush took the changes');
    unflushed.add({ record: runningJob({ id: 'a', version: 4 }), storedVersion: 3 }, event(3));
    unflushed.add({ record: runningJob({ id: 'b', version: 4 }), storedVersion: 3 }, event(4, 'b', 'bob'));
    assert.deepEqual(cursors(unflushed.unlogged('alice')), [1, 3]);
    assert.deepEqual(cursors(unflushed.unlogged('bob')), [2, 4]);
    assert.deepEqual(cursors(unflushed.unlogged('carol')), []);
    unflushed.putBack(taken);
    assert.deepEqual(cursors(unflushed.unlogged('alice')), [1, 3]);
    assert.deepEqual(cursors(unflushed.unlogged('bob')), [2, 4]);
    unflushed.take();
    unflushed.flushed();
    assert.deepEqual(cursors(unflushed.unlogged('alice')), [], 'a finished flush leaves nothing unlogged');
    unflushed.add({ record: runningJob({ id: 'a', version: 5 }), storedVersion: 4 }, event(5));
    assert.deepEqual(cursors(unflushed.unlogged('alice')), [5]);
    assert.deepEqual(cursors(unflushed.unlogged('bob')), []);
  });
});
