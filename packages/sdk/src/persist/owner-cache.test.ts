import assert from 'node:assert/strict';
import { describe, it, mock } from 'node:test';
import { memoryStorage } from '@jobtracker/test-support/tokens';
import type { Job } from '../wire.js';
import { createOwnerCache, type SavedJobs } from './owner-cache.js';

const KEY = 'jobtracker:/api:alice';
const job = (id: string) => ({ id }) as Job;

/** A cache over `storage`, saving whatever `state` holds when it saves. */
function cacheOf(storage = memoryStorage()) {
  const state: SavedJobs = { cursor: null, jobs: [] };
  return { storage, state, cache: createOwnerCache(storage, () => state) };
}

const stored = (storage: ReturnType<typeof memoryStorage>, key: string) =>
  JSON.parse(storage.items.get(key) ?? 'null');

describe('owner cache', () => {
  it('reads and writes nothing before the owner is known', () => {
    mock.timers.enable({ apis: ['setTimeout'] });
    try {
      const { storage, cache } = cacheOf();
      cache.saveSoon();
      mock.timers.tick(1000);
      assert.deepEqual([...storage.items.keys()], [], 'nothing written');
    } finally {
      mock.timers.reset();
    }
  });

  it('opens the jobs kept for the owner and drops the per-browser dismissed ids of old; another format is ignored', () => {
    const storage = memoryStorage();
    storage.setItem(KEY, JSON.stringify({ v: 1, cursor: '7', jobs: [job('a')] }));
    storage.setItem(`${KEY}:dismissed`, JSON.stringify(['x']));
    const { cache } = cacheOf(storage);
    assert.deepEqual(cache.open(KEY), { v: 1, cursor: '7', jobs: [job('a')] });
    assert.equal(storage.items.has(`${KEY}:dismissed`), false, 'dismissals live on the server now');
    assert.equal('dismiss' in cache || '$dismissed' in cache, false, 'and nowhere in this browser');
    storage.setItem(KEY, JSON.stringify({ v: 2, jobs: [] }));
    assert.equal(cacheOf(storage).cache.open(KEY), null, 'another version');
    assert.equal(cacheOf(memoryStorage()).cache.open(KEY), null, 'nothing kept');
  });

  it('saves once, a moment after changes that come together, or at once when the page is left', () => {
    mock.timers.enable({ apis: ['setTimeout'] });
    try {
      const { storage, state, cache } = cacheOf();
      const writes = mock.method(storage, 'setItem');
      cache.open(KEY);
      state.jobs = [job('a')];
      cache.saveSoon();
      state.cursor = '2';
      cache.saveSoon();
      assert.equal(writes.mock.callCount(), 0, 'not yet');
      mock.timers.tick(200);
      assert.equal(writes.mock.callCount(), 1, 'one write for both changes');
      assert.deepEqual(stored(storage, KEY), {
        v: 1,
        cursor: '2',
        jobs: [job('a')],
      });
      state.cursor = '3';
      cache.saveSoon();
      cache.flush();
      assert.equal(stored(storage, KEY).cursor, '3', 'flushed at once');
      mock.timers.tick(1000);
      assert.equal(writes.mock.callCount(), 2, 'and not written again');
      cache.flush();
      assert.equal(writes.mock.callCount(), 2, 'a flush with nothing waiting writes nothing');
    } finally {
      mock.timers.reset();
    }
  });

  it('saves progress of a running job lazily (a 1 Hz job writes every 5 s, not every second), a status change soon', () => {
    mock.timers.enable({ apis: ['setTimeout'] });
    try {
      const { storage, state, cache } = cacheOf();
      const writes = mock.method(storage, 'setItem');
      cache.open(KEY);
      for (let second = 1; second <= 10; second++) {
        state.cursor = String(second);
        cache.saveSoon(true);
        mock.timers.tick(1000);
      }
      assert.equal(writes.mock.callCount(), 2, 'ten progress updates in 10 s, two writes');
      assert.equal(stored(storage, KEY).cursor, '10', 'the last of them is kept');
      state.cursor = '11';
      cache.saveSoon(true);
      state.cursor = '12';
      cache.saveSoon();
      mock.timers.tick(200);
      assert.equal(
        stored(storage, KEY).cursor,
        '12',
        'a status change brings a waiting progress save forward',
      );
      assert.equal(writes.mock.callCount(), 3);
      mock.timers.tick(10_000);
      assert.equal(writes.mock.callCount(), 3, 'and nothing is written again');
      state.cursor = '13';
      cache.saveSoon(true);
      cache.flush();
      assert.equal(stored(storage, KEY).cursor, '13', 'leaving the page writes waiting progress at once');
    } finally {
      mock.timers.reset();
    }
  });

  it('forgets what it kept for the owner on clear, and a save that was waiting', () => {
    mock.timers.enable({ apis: ['setTimeout'] });
    try {
      const { storage, cache } = cacheOf();
      storage.setItem('jobtracker:/api:bob', 'bob’s');
      cache.open(KEY);
      cache.saveSoon();
      mock.timers.tick(200);
      cache.saveSoon();
      cache.clear();
      mock.timers.tick(1000);
      assert.deepEqual(
        [...storage.items.keys()],
        ['jobtracker:/api:bob'],
        "only another owner's cache is left",
      );
    } finally {
      mock.timers.reset();
    }
  });

  it('works without a storage', () => {
    const cache = createOwnerCache(null, () => ({ cursor: null, jobs: [] }));
    assert.equal(cache.open(KEY), null);
    cache.saveSoon();
    cache.flush();
    cache.clear();
  });
});
