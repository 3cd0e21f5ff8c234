import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createId, createIdSequence } from './ids.js';

describe('createId', () => {
  it('is 26 URL-safe characters that sort by creation time', () => {
    const earlier = createId(1_700_000_000_000);
    const later = createId(1_700_000_000_001);
    assert.match(earlier, /^[0-9a-z]{26}$/);
    assert.ok(earlier < later, `${earlier} sorts before ${later}`);
  });
});

describe('createIdSequence', () => {
  it('hands out ids in creation order within one millisecond, so the queue stays first in, first out', () => {
    const nextId = createIdSequence();
    const ids = Array.from({ length: 500 }, () => nextId(1_700_000_000_000));
    assert.equal(new Set(ids).size, ids.length, 'every id is new');
    assert.deepEqual([...ids].sort(), ids, 'sorted ids keep their creation order');
  });

  it('keeps rising when the clock steps back, and takes the new time once it passes the last', () => {
    const nextId = createIdSequence();
    const first = nextId(1_700_000_000_500);
    const stepBack = nextId(1_700_000_000_000);
    const later = nextId(1_700_000_001_000);
    assert.ok(first < stepBack && stepBack < later, `${first} < ${stepBack} < ${later}`);
    assert.equal(later.slice(0, 10), createId(1_700_000_001_000).slice(0, 10));
  });

  it('sequences are independent and unguessable: two start from different random parts', () => {
    const a = createIdSequence()(1_700_000_000_000);
    const b = createIdSequence()(1_700_000_000_000);
    assert.notEqual(a.slice(10), b.slice(10));
  });
});
