import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { jobRecord, runningJob } from '../../testing/job-records.js';
import { ActiveJobs } from './active-jobs.js';

describe('active jobs (local mode’s cache)', () => {
  it('finds an active job by id, by owner and by its deduplication key', () => {
    const active = new ActiveJobs();
    const mine = jobRecord({ id: 'a', activeKey: 'gen|x' });
    const theirs = jobRecord({ id: 'b', ownerId: 'bob', activeKey: 'gen|x' });
    active.remember(mine);
    active.remember(theirs);
    assert.equal(active.get('a'), mine);
    assert.deepEqual(active.ownedBy('alice'), [mine]);
    assert.equal(active.withKey('alice', 'gen|x'), mine);
    assert.equal(active.withKey('bob', 'gen|x'), theirs);
    assert.equal(active.withKey('alice', 'gen|y'), undefined);
    assert.deepEqual([...active.values()], [mine, theirs]);
  });

  it('lets a finished job leave the cache and its key', () => {
    const active = new ActiveJobs();
    active.remember(runningJob({ id: 'a', activeKey: 'gen|x' }));
    active.remember(runningJob({ id: 'a', activeKey: null, status: 'completed', version: 3 }));
    assert.equal(active.get('a'), undefined);
    assert.equal(active.withKey('alice', 'gen|x'), undefined);
  });

  it('keeps a key taken over by a newer job when the older one is forgotten', () => {
    const active = new ActiveJobs();
    active.remember(jobRecord({ id: 'old', activeKey: 'gen|x' }));
    active.remember(jobRecord({ id: 'new', activeKey: 'gen|x' }));
    active.forget('old');
    assert.equal(active.withKey('alice', 'gen|x')?.id, 'new');
    active.forget('unknown');
    active.remember(jobRecord({ id: 'free', activeKey: null }));
    active.forget('free');
    assert.equal(active.get('free'), undefined);
  });

  it('answers a row read from the database with the cached version when that is newer', () => {
    const active = new ActiveJobs();
    const cached = runningJob({ id: 'a', version: 5, progress: 50 });
    active.remember(cached);
    assert.equal(active.newest(runningJob({ id: 'a', version: 4 })), cached);
    const newer = runningJob({ id: 'a', version: 6 });
    assert.equal(active.newest(newer), newer);
    const uncached = jobRecord({ id: 'z' });
    assert.equal(active.newest(uncached), uncached);
  });

  it('answers an owner’s active jobs as they come and go', () => {
    const active = new ActiveJobs();
    active.remember(runningJob({ id: 'a' }));
    active.remember(runningJob({ id: 'b', ownerId: 'bob' }));
    active.remember(runningJob({ id: 'c' }));
    assert.deepEqual(
      active.ownedBy('alice').map((job) => job.id),
      ['a', 'c'],
    );
    active.remember(runningJob({ id: 'a', status: 'completed', version: 3 }));
    assert.deepEqual(
      active.ownedBy('alice').map((job) => job.id),
      ['c'],
    );
    active.forget('c');
    active.forget('b');
    assert.deepEqual(active.ownedBy('alice'), []);
    assert.deepEqual(active.ownedBy('bob'), []);
  });
});
