import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { toWireJob } from '../../jobs/job-record.js';
import type { StoredEvent } from '../../storage/store.js';
import { jobRecord } from '../../testing/job-records.js';
import { Publisher } from '../publisher.js';
import { FeedReader } from './feed-reader.js';

const data = JSON.stringify(toWireJob(jobRecord()));

/**
 * A reader started over a log of `size` events (cursors 1…size) and a feed whose notifications the test
 * sends; `seen` holds the cursors alice's stream got.
 */
async function startedReader(size: number) {
  const log: StoredEvent[] = [];
  const append = (count: number) => {
    for (let i = 0; i < count; i++) {
      const cursor = log.length + 1;
      log.push({
        cursor,
        ownerId: 'alice',
        jobId: `j${cursor}`,
        version: 1,
        data,
        createdAt: 0,
        progressFrom: null,
        coalescedFrom: null,
      });
    }
  };
  append(size);
  const reads: number[] = [];
  const calls: string[] = [];
  let notify: (cursor: number | null) => void = () => {};
  let hold: Promise<void> = Promise.resolve();
  const store = {
    feed: {
      start: async (onChange: (cursor: number | null) => void) => {
        calls.push('listen');
        notify = onChange;
      },
      stop: async () => {
        calls.push('stop');
      },
    },
    maxCursor: async () => {
      calls.push('maxCursor');
      return log.length;
    },
    eventsAfterAll: async (after: number, limit: number) => {
      reads.push(after);
      await hold;
      return log.filter((event) => event.cursor > after).slice(0, limit);
    },
  };
  const publisher = new Publisher(
    async () => 0,
    () => {},
  );
  const seen: number[] = [];
  publisher.hub.subscribe('alice', (event) => seen.push(event.cursor));
  const reader = new FeedReader(store, publisher, () => {});
  await reader.start();
  const holdReads = () => {
    let release = () => {};
    hold = new Promise((resolve) => {
      release = resolve;
    });
    return () => {
      hold = Promise.resolve();
      release();
    };
  };
  return {
    reader,
    publisher,
    append,
    reads,
    calls,
    seen,
    holdReads,
    notify: (c: number | null) => notify(c),
  };
}

describe('feed reader (shared mode’s delivery)', () => {
  it('listens before it reads the log’s end, then publishes what the log gains, in order, once', async () => {
    const { reader, publisher, append, calls, seen } = await startedReader(3);
    assert.deepEqual(calls, ['listen', 'maxCursor']);
    assert.equal(publisher.publishedCursor, 3, 'the log’s end');
    append(2);
    await reader.catchUp();
    await reader.catchUp();
    assert.deepEqual(seen, [4, 5]);
    await reader.stop();
    assert.deepEqual(calls.slice(-1), ['stop']);
  });

  it('reads on a notification past what it published, or one that says some may be missed', async () => {
    const { reader, publisher, append, reads, notify } = await startedReader(2);
    notify(2);
    assert.deepEqual(reads, [], 'nothing new');
    append(1);
    notify(3);
    assert.deepEqual(reads, [2]);
    await new Promise((resolve) => setImmediate(resolve));
    assert.equal(publisher.publishedCursor, 3);
    notify(null);
    assert.deepEqual(reads, [2, 3]);
    await reader.stop();
  });

  it('reads a long log in batches of a thousand', async () => {
    const { reader, publisher, append, reads } = await startedReader(0);
    append(2500);
    await reader.catchUp();
    assert.deepEqual(reads, [0, 1000, 2000]);
    assert.equal(publisher.publishedCursor, 2500);
    await reader.stop();
  });

  it('reads once at a time: callers during a read share the one read after it', async () => {
    const { reader, publisher, append, reads, holdReads } = await startedReader(0);
    const release = holdReads();
    const first = reader.catchUp();
    append(1);
    const waiting = [reader.catchUp(), reader.catchUp(), reader.catchUp()];
    assert.equal(waiting[0], waiting[2], 'the callers during a read share one promise');
    release();
    await Promise.all([first, ...waiting]);
    assert.deepEqual(reads, [0, 1], 'one read, then one more for everyone who asked during it');
    assert.equal(publisher.publishedCursor, 1);
    await reader.stop();
  });
});
