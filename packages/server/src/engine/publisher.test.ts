import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { toWireJob } from '../jobs/job-record.js';
import type { StoredEvent } from '../storage/store.js';
import type { LiveEvent } from '../stream/hub.js';
import { runningJob } from '../testing/job-records.js';
import { Publisher } from './publisher.js';
import type { JobChange } from './types.js';

const event = (cursor: number, ownerId = 'alice'): StoredEvent => ({
  cursor,
  ownerId,
  jobId: 'a',
  version: cursor,
  data: JSON.stringify(toWireJob(runningJob({ id: 'a', version: cursor }))),
  createdAt: 0,
  progressFrom: null,
  coalescedFrom: null,
});

describe('publisher', () => {
  it('sends each event to its owner’s streams and moves the cursors', async () => {
    const publisher = new Publisher(
      async () => 0,
      () => {},
    );
    publisher.startAt(10);
    assert.equal(publisher.publishedCursor, 10);
    const seen: LiveEvent[] = [];
    publisher.hub.subscribe('alice', (live) => seen.push(live));
    publisher.publish(event(11));
    publisher.publish(event(12, 'bob'));
    assert.deepEqual(
      seen.map((live) => [live.cursor, live.ownerId]),
      [[11, 'alice']],
    );
    assert.equal('createdAt' in (seen[0] ?? {}), false, 'a live event has no log time');
    assert.equal(publisher.publishedCursor, 12);
    assert.deepEqual([await publisher.ownerCursor('alice'), await publisher.ownerCursor('bob')], [11, 12]);
  });

  it('delivers an event from the log once, and tells the listeners what changed', () => {
    const publisher = new Publisher(
      async () => 0,
      () => {},
    );
    const changes: JobChange[] = [];
    const stop = publisher.onChange((change) => changes.push(change));
    publisher.deliver(event(5));
    publisher.deliver(event(5));
    publisher.deliver(event(4));
    assert.deepEqual(changes, [{ id: 'a', type: 'gen', status: 'running' }]);
    stop();
    publisher.deliver(event(6));
    assert.equal(changes.length, 1, 'a stopped listener hears nothing');
    assert.equal(publisher.publishedCursor, 6);
  });

  it('reports a listener that throws and goes on to the next', () => {
    const errors: unknown[] = [];
    const publisher = new Publisher(
      async () => 0,
      (error) => errors.push(error),
    );
    const heard: string[] = [];
    publisher.onChange(() => {
      throw new Error('listener broke');
    });
    publisher.onChange((change) => heard.push(change.id));
    publisher.notify({ id: 'a', type: 'gen', status: 'pending' });
    assert.deepEqual(heard, ['a']);
    assert.match(String(errors[0]), /listener broke/);
  });

  it('reads an owner’s cursor from the database once, and keeps one published meanwhile', async () => {
    let reads = 0;
    let publishDuringRead = () => {};
    const publisher = new Publisher(
      async () => {
        reads++;
        publishDuringRead();
        return 7;
      },
      () => {},
    );
    publishDuringRead = () => publisher.publish(event(9));
    assert.equal(await publisher.ownerCursor('alice'), 9);
    publishDuringRead = () => {};
    assert.equal(await publisher.ownerCursor('alice'), 9);
    assert.equal(await publisher.ownerCursor('carol'), 7);
    assert.equal(reads, 2);
  });
});
