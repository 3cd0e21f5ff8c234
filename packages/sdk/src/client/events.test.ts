import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Job } from '../wire.js';
import { createJobEvents } from './events.js';

const job = { id: 'job-1' } as Job;

describe('job events', () => {
  it('calls the listeners of an event, and no longer one that was removed', () => {
    const events = createJobEvents();
    const heard: string[] = [];
    assert.equal(events.has('completed'), false, 'no listener yet');
    const off = events.on('completed', (done) => heard.push(`a ${done.id}`));
    events.on('completed', (done) => heard.push(`b ${done.id}`));
    events.on('failed', (done) => heard.push(`failed ${done.id}`));
    assert.equal(events.has('completed'), true, 'a listener of completed');
    assert.equal(events.has('progress'), false, 'none of progress');
    events.emit('completed', job);
    off();
    events.emit('completed', job);
    events.emit('progress', job);
    assert.deepEqual(heard, ['a job-1', 'b job-1', 'b job-1']);
  });

  it('reports a listener that throws apart, without stopping the others', () => {
    const events = createJobEvents();
    const heard: string[] = [];
    events.on('progress', () => {
      throw new Error('listener bug');
    });
    events.on('progress', (update) => heard.push(update.id));
    // The error is thrown again from a microtask of its own: catch that throw here.
    const thrown: unknown[] = [];
    const queue = globalThis.queueMicrotask;
    globalThis.queueMicrotask = (task) => {
      try {
        task();
      } catch (error) {
        thrown.push(error);
      }
    };
    try {
      events.emit('progress', job);
    } finally {
      globalThis.queueMicrotask = queue;
    }
    assert.deepEqual(heard, ['job-1'], 'the next listener still heard it');
    assert.deepEqual(
      thrown.map((error) => (error as Error).message),
      ['listener bug'],
      'the error is rethrown on its own',
    );
  });
});
