import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { onMount } from 'nanostores';
import type { Job } from '../wire.js';
import { createJobStores } from './job-stores.js';

const at = (second: number) => new Date(Date.UTC(2030, 0, 1, 0, 0, second)).toISOString();

function job(id: string, fields: Partial<Job> = {}): Job {
  return {
    id,
    type: 'report',
    scope: null,
    title: null,
    status: 'pending',
    progress: null,
    message: null,
    result: null,
    error: null,
    attempt: 0,
    maxAttempts: 3,
    retryOf: null,
    version: 1,
    createdAt: at(0),
    startedAt: null,
    updatedAt: at(0),
    completedAt: null,
    dismissedAt: null,
    ...fields,
  };
}

describe('job stores', () => {
  it('merges jobs by version, and returns what changed', () => {
    const stores = createJobStores();
    const first = stores.take({ kind: 'jobs', jobs: [job('a'), job('b')], cursor: '2' });
    assert.deepEqual(
      first.map(([before, after]) => [before?.version, after.id]),
      [
        [undefined, 'a'],
        [undefined, 'b'],
      ],
    );
    const running = job('a', { status: 'running', version: 2 });
    const changes = stores.take({ kind: 'jobs', jobs: [running, job('b')], cursor: '3' });
    assert.deepEqual(changes, [[job('a'), running]], 'only the newer version of a');
    assert.equal(stores.take({ kind: 'jobs', jobs: [job('a')], cursor: '4' }).length, 0, 'an older version');
    assert.equal(stores.$jobs.get().a, running, 'the newest version stays');
    assert.equal(stores.cursor, '4');
  });

  it('replaces everything held with a snapshot, even a higher local version', () => {
    const stores = createJobStores();
    stores.take({ kind: 'jobs', jobs: [job('a', { version: 9 }), job('b')], cursor: '9' });
    const changes = stores.take({ kind: 'snapshot', jobs: [job('a', { version: 3 })], cursor: '3' });
    assert.deepEqual(Object.keys(stores.$jobs.get()), ['a']);
    assert.equal(stores.$jobs.get().a?.version, 3, "the server's word wins");
    assert.equal(changes.length, 1);
    assert.equal(stores.cursor, '3');
  });

  it('keeps the cursor for jobs that come without one (an action’s answer), and takes a null one', () => {
    const stores = createJobStores();
    stores.take({ kind: 'jobs', jobs: [], cursor: '5' });
    stores.take({ kind: 'jobs', jobs: [job('a')] });
    assert.equal(stores.cursor, '5', 'an answer to an action moves no cursor');
    stores.take({ kind: 'snapshot', jobs: [], cursor: null });
    assert.equal(stores.cursor, null, 'a tab that never had a cursor hands none on');
  });

  it('lists active jobs newest first and finished ones most recently finished first', () => {
    const stores = createJobStores();
    stores.take({
      kind: 'jobs',
      jobs: [
        job('old', { createdAt: at(1) }),
        job('new', { status: 'running', createdAt: at(5) }),
        job('done-early', { status: 'completed', completedAt: at(2), updatedAt: at(2) }),
        job('done-late', { status: 'failed', completedAt: at(8), updatedAt: at(8) }),
        job('cancelled', { status: 'cancelled', completedAt: null, updatedAt: at(4) }),
      ],
    });
    assert.deepEqual(
      stores.$active.get().map((j) => j.id),
      ['new', 'old'],
    );
    assert.deepEqual(
      stores.$recent.get().map((j) => j.id),
      ['done-late', 'cancelled', 'done-early'],
    );
    assert.deepEqual(
      stores
        .list()
        .map((j) => j.id)
        .sort(),
      ['cancelled', 'done-early', 'done-late', 'new', 'old'],
    );
  });

  it('hands out one store per job and per type and scope, following the jobs', () => {
    const stores = createJobStores();
    assert.equal(stores.jobStore('a'), stores.jobStore('a'), 'the same store for the same job');
    assert.equal(stores.activeFor('export', 'doc-1'), stores.activeFor('export', 'doc-1'));
    assert.notEqual(stores.activeFor('export', 'doc-1'), stores.activeFor('export'), 'another scope');
    assert.equal(stores.activeFor('export'), stores.activeFor('export', null), 'no scope is a null scope');
    assert.equal(stores.jobStore('a').get(), undefined, 'unknown yet');
    const scoped = job('a', { type: 'export', scope: 'doc-1' });
    stores.take({ kind: 'jobs', jobs: [scoped, job('b', { type: 'export', status: 'completed' })] });
    assert.equal(stores.jobStore('a').get(), scoped);
    assert.equal(stores.activeFor('export', 'doc-1').get(), scoped, 'the active job of that type and scope');
    assert.equal(stores.activeFor('export').get(), undefined, 'a finished job is not active');
  });

  it('forgets every job and the cursor on clear', () => {
    const stores = createJobStores();
    stores.take({ kind: 'jobs', jobs: [job('a')], cursor: '1' });
    stores.clear();
    assert.deepEqual(stores.$jobs.get(), {});
    assert.equal(stores.cursor, null);
  });
});

describe('job stores read by the client itself', () => {
  it('never mount the stores (which would open a connection) when the client reads what it holds', () => {
    const stores = createJobStores();
    let mounts = 0;
    onMount(stores.$jobs, () => {
      mounts++;
    });
    stores.take({
      kind: 'jobs',
      jobs: [
        job('a', { status: 'running', version: 2 }),
        job('b', { status: 'completed', completedAt: at(5) }),
      ],
    });
    assert.deepEqual(
      stores.list().map((held) => held.id),
      ['a', 'b'],
    );
    assert.deepEqual(
      stores.saved(20).map((held) => held.id),
      ['a', 'b'],
      'active first, then the most recently finished',
    );
    assert.equal(mounts, 0, 'no read mounted $jobs (its onMount opens the connection)');
    const stop = stores.$active.listen(() => {});
    assert.equal(mounts, 1, 'a subscriber still mounts it');
    stop();
  });
});
