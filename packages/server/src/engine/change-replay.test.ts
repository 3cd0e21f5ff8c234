import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { StoredEvent } from '../storage/store.js';
import { ChangeReplay } from './change-replay.js';
import { Publisher } from './publisher.js';

const event = (cursor: number, ownerId = 'alice'): StoredEvent => ({
  cursor,
  ownerId,
  jobId: `j${cursor}`,
  version: 1,
  data: '{}',
  createdAt: 0,
  progressFrom: null,
  coalescedFrom: null,
});

/** A replay over a log of `logged` events and a writer holding `unlogged` ones, published up to 10. */
async function replayOver(
  logged: StoredEvent[],
  unlogged: StoredEvent[] = [],
  options = { lost: [] as number[] },
) {
  const publisher = new Publisher(
    async () => 0,
    () => {},
  );
  const reads: number[] = [];
  let watermark = 2;
  const replay = new ChangeReplay({
    store: {
      pruneWatermark: async () => watermark,
      pruneEvents: async () => {
        watermark = 4;
        return watermark;
      },
      eventsAfter: async (ownerId, after, upTo, limit) => {
        reads.push(after);
        return logged
          .filter((e) => e.ownerId === ownerId && e.cursor > after && e.cursor <= upTo)
          .slice(0, limit);
      },
    },
    writer: {
      catchUp: async () => {},
      watermark: async (known) => known,
      isLost: (cursor) => options.lost.includes(cursor),
      unloggedEvents: () => unlogged,
    },
    publisher,
    replayLimit: 3,
  });
  assert.equal(await replay.start(), 2, 'the watermark is read at start');
  for (const e of [...logged, ...unlogged].sort((a, b) => a.cursor - b.cursor)) publisher.publish(e);
  publisher.startAt(10);
  return { replay, reads, publisher };
}

const cursorsOf = (changes: { events: { cursor: number }[] }) => changes.events.map((e) => e.cursor);

describe('change replay', () => {
  it('replays the owner’s events after a cursor, logged or not, once each, in order', async () => {
    const { replay } = await replayOver(
      [event(3), event(4, 'bob'), event(5), event(6)],
      [event(6), event(7), event(8, 'bob')],
    );
    const changes = await replay.changesSince('alice', 3);
    assert.deepEqual([cursorsOf(changes), changes.cursor, changes.reset], [[5, 6, 7], 10, false]);
  });

  it('resets a client with no cursor, one below the watermark, one lost in a crash, or one from the future', async () => {
    const { replay } = await replayOver([event(3)], [], { lost: [5] });
    for (const since of [0, 1, 5, 11]) {
      const changes = await replay.changesSince('alice', since);
      assert.deepEqual([changes.reset, changes.events, changes.cursor], [true, [], 10], `from ${since}`);
    }
    assert.equal((await replay.changesSince('alice', 2)).reset, false, 'the watermark itself resumes');
    await replay.prune(0);
    assert.equal((await replay.changesSince('alice', 3)).reset, true, 'a prune raises the watermark');
  });

  it('answers an owner with nothing newer without reading the log', async () => {
    const { replay, reads } = await replayOver([event(3), event(6, 'bob')]);
    assert.deepEqual(cursorsOf(await replay.changesSince('alice', 3)), []);
    assert.deepEqual(reads, []);
  });

  it('resets a replay longer than its limit', async () => {
    const { replay } = await replayOver([3, 4, 5, 6, 7].map((cursor) => event(cursor)));
    assert.deepEqual(cursorsOf(await replay.changesSince('alice', 4)), [5, 6, 7], 'three events fit');
    assert.equal((await replay.changesSince('alice', 3)).reset, true, 'four do not');
  });
});
