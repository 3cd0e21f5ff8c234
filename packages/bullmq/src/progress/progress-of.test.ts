import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { progressOf } from './progress-of.js';

describe('progressOf: what job.updateProgress(…) says for the tracker', () => {
  it('reads a number as a percentage, kept within 0..100', () => {
    assert.deepEqual(progressOf(42), { progress: 42 });
    assert.deepEqual(progressOf(140), { progress: 100 });
    assert.deepEqual(progressOf(-3), { progress: 0 });
    assert.deepEqual(progressOf(Number.NaN), {});
  });

  it('reads { percent, message } (or { progress, message })', () => {
    assert.deepEqual(progressOf({ percent: 30, message: 'Encoding' }), { progress: 30, message: 'Encoding' });
    assert.deepEqual(progressOf({ progress: 60 }), { progress: 60 });
    assert.deepEqual(progressOf({ message: 'Uploading' }), { message: 'Uploading' });
  });

  it('takes a string as a message and ignores what carries neither', () => {
    assert.deepEqual(progressOf('Halfway'), { message: 'Halfway' });
    assert.deepEqual(progressOf(true), {});
    assert.deepEqual(progressOf(null), {});
    assert.deepEqual(progressOf({ percent: '50' }), {});
  });

  it('cuts a message to the API’s 1,000 characters', () => {
    assert.equal(progressOf({ message: 'x'.repeat(1500) }).message?.length, 1000);
  });
});
