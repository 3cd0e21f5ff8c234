import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { EventHub, type LiveEvent } from './hub.js';

const event = (ownerId: string, cursor = 1): LiveEvent => ({
  cursor,
  ownerId,
  jobId: 'j',
  version: 1,
  data: '{}',
  progressFrom: null,
  coalescedFrom: null,
});

describe('the event hub’s waiters (held polls)', () => {
  it('wakes an owner’s waiters once, at that owner’s next event only, apart from the streams', () => {
    const hub = new EventHub();
    const woken: string[] = [];
    hub.waitForEvent('alice', () => woken.push('alice 1'));
    hub.waitForEvent('alice', () => woken.push('alice 2'));
    hub.waitForEvent('bob', () => woken.push('bob'));
    assert.deepEqual([hub.waiterCount('alice'), hub.waiterCount(), hub.subscriberCount()], [2, 3, 0]);
    hub.publish(event('carol'));
    assert.deepEqual(woken, [], 'another owner’s event wakes no one');
    hub.publish(event('alice'));
    hub.publish(event('alice', 2));
    assert.deepEqual(woken, ['alice 1', 'alice 2'], 'each once');
    assert.deepEqual([hub.waiterCount('alice'), hub.waiterCount()], [0, 1]);
  });

  it('forgets a waiter that stops waiting, however often it is told, and after it was woken', () => {
    const hub = new EventHub();
    let woken = 0;
    const stop = hub.waitForEvent('alice', () => woken++);
    const other = hub.waitForEvent('alice', () => woken++);
    stop();
    stop();
    assert.equal(hub.waiterCount('alice'), 1);
    hub.publish(event('alice'));
    other();
    assert.deepEqual([woken, hub.waiterCount('alice'), hub.waiterCount()], [1, 0, 0]);
  });
});
