import assert from 'node:assert/strict';
import type { JobStore, StoredEvent } from './store.js';
import { type StoreTest, testEvent } from './store-fixtures.contract.js';

const EVERY_CURSOR = Number.MAX_SAFE_INTEGER;
const cursorsOf = (events: readonly StoredEvent[]) => events.map((event) => event.cursor);

function assertRising(cursors: readonly number[]) {
  for (let i = 1; i < cursors.length; i += 1) {
    assert.ok((cursors[i] as number) > (cursors[i - 1] as number), `cursors rise: ${cursors.join(', ')}`);
  }
}

/** Appends each batch in a transaction of its own, then returns the whole log, oldest first. */
async function appendAll(store: JobStore, batches: readonly (readonly StoredEvent[])[]) {
  for (const batch of batches) await store.transaction((tx) => tx.appendEvents(batch));
  return store.eventsAfterAll(0, 1000);
}

/** The change log every dialect keeps: appending, reading by owner or for all, pruning, highest cursors. */
export function eventLogContract(test: StoreTest): void {
  test('appends events with cursors that rise in the order appended', async (store) => {
    const events = await appendAll(store, [
      [testEvent(10, 'alice', 100, { jobId: 'a1', version: 1 })],
      [],
      [
        testEvent(20, 'bob', 100, { jobId: 'b1', version: 1 }),
        testEvent(30, 'alice', 200, { jobId: 'a1', version: 2 }),
      ],
      [testEvent(40, 'alice', 300, { jobId: 'a1', version: 3 })],
    ]);
    assert.deepEqual(
      events.map(({ cursor: _cursor, ...event }) => event),
      [
        testEvent(0, 'alice', 100, { jobId: 'a1', version: 1 }),
        testEvent(0, 'bob', 100, { jobId: 'b1', version: 1 }),
        testEvent(0, 'alice', 200, { jobId: 'a1', version: 2 }),
        testEvent(0, 'alice', 300, { jobId: 'a1', version: 3 }),
      ].map(({ cursor: _cursor, ...event }) => event),
    );
    assertRising(cursorsOf(events));
    assert.ok(
      events.every((event) => Number.isSafeInteger(event.cursor) && event.cursor > 0),
      'cursors are positive safe integers',
    );
  });

  test('keeps whether an event was a progress report, and what it stands for', async (store) => {
    const big = 1_765_000_000_000_123;
    const events = await appendAll(store, [
      [
        testEvent(10, 'alice', 100, { jobId: 'a1', version: 2 }),
        testEvent(20, 'alice', 100, { jobId: 'a1', version: 3, progressFrom: 2 }),
        testEvent(30, 'alice', 100, { jobId: 'a1', version: 9, progressFrom: 3, coalescedFrom: big }),
      ],
    ]);
    const facts = (list: readonly StoredEvent[]) =>
      list.map((event) => [event.progressFrom, event.coalescedFrom]);
    const expected = [
      [null, null],
      [2, null],
      [3, big],
    ];
    assert.deepEqual(facts(events), expected, 'as the feed reads them');
    assert.deepEqual(
      facts(await store.eventsAfter('alice', 0, EVERY_CURSOR, 10)),
      expected,
      'as a replay reads them',
    );
  });

  test('reads an owner’s events in cursor order within bounds, and prunes with a lasting watermark', async (store) => {
    assert.equal(await store.pruneWatermark(), 0);
    assert.equal(await store.pruneEvents(1000), 0, 'nothing to prune');
    const events = await appendAll(store, [
      [testEvent(10, 'alice', 100)],
      [testEvent(20, 'bob', 100), testEvent(30, 'alice', 200)],
      [testEvent(40, 'alice', 300)],
    ]);
    const [c1, c2, c3, c4] = cursorsOf(events) as [number, number, number, number];
    const cursors = async (after: number, upTo: number, limit = 100) =>
      cursorsOf(await store.eventsAfter('alice', after, upTo, limit));
    assert.deepEqual(await cursors(0, EVERY_CURSOR), [c1, c3, c4]);
    assert.deepEqual(await cursors(c1, c3), [c3]);
    assert.deepEqual(await cursors(0, EVERY_CURSOR, 2), [c1, c3]);
    assert.deepEqual(cursorsOf(await store.eventsAfter('bob', 0, EVERY_CURSOR, 100)), [c2]);
    assert.equal(await store.pruneEvents(250), c3);
    assert.deepEqual(await cursors(0, EVERY_CURSOR), [c4]);
    assert.deepEqual(cursorsOf(await store.eventsAfterAll(0, 100)), [c4]);
    assert.equal(await store.pruneEvents(250), c3, 'the watermark does not fall back');
    assert.equal(await store.pruneWatermark(), c3);
    assert.equal(await store.maxCursor(), c4);
  });

  test('reads every owner’s events after a cursor, oldest first, at most a limit', async (store) => {
    const events = await appendAll(store, [
      [testEvent(10, 'alice', 100)],
      [testEvent(20, 'bob', 100)],
      [testEvent(30, 'carol', 100), testEvent(40, 'alice', 100)],
    ]);
    const [c1, c2, c3, c4] = cursorsOf(events) as [number, number, number, number];
    assert.deepEqual(
      events.map((event) => event.ownerId),
      ['alice', 'bob', 'carol', 'alice'],
    );
    assert.deepEqual(cursorsOf(await store.eventsAfterAll(c1, 2)), [c2, c3]);
    assert.deepEqual(cursorsOf(await store.eventsAfterAll(c3, 10)), [c4]);
    assert.deepEqual(await store.eventsAfterAll(c4, 10), []);
  });

  test('tells the highest cursor of the log and of one owner, 0 when there is none', async (store) => {
    assert.equal(await store.maxCursor(), 0);
    assert.equal(await store.ownerMaxCursor('alice'), 0);
    const events = await appendAll(store, [
      [testEvent(10, 'alice', 100), testEvent(20, 'bob', 100)],
      [testEvent(30, 'alice', 100)],
      [testEvent(40, 'bob', 100)],
    ]);
    const [, , c3, c4] = cursorsOf(events) as [number, number, number, number];
    assert.equal(await store.maxCursor(), c4);
    assert.equal(await store.ownerMaxCursor('alice'), c3);
    assert.equal(await store.ownerMaxCursor('bob'), c4);
    assert.equal(await store.ownerMaxCursor('carol'), 0);
  });
}
