import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { StoredEvent } from '../storage/store.js';
import { coalesceProgress } from './progress-log.js';

/** A job's event: a progress report when `progressFrom` is given. */
const event = (jobId: string, version: number, cursor: number, progressFrom: number | null = null) => ({
  cursor,
  ownerId: 'o',
  jobId,
  version,
  data: `${jobId}@${version}`,
  createdAt: cursor,
  progressFrom,
  coalescedFrom: null,
});

const brief = (events: readonly StoredEvent[]) =>
  events.map((e) => `${e.jobId}${e.version}@${e.cursor}<${e.progressFrom ?? '-'}~${e.coalescedFrom ?? '-'}`);

describe('coalesceProgress', () => {
  it('keeps the last of each job’s run of progress reports, standing for the whole run', () => {
    const events = [
      event('a', 3, 10, 2),
      event('b', 5, 11, 4),
      event('a', 4, 12, 3),
      event('a', 5, 13, 4),
      event('b', 6, 14, 5),
    ];
    const copies = structuredClone(events);
    assert.deepEqual(brief(coalesceProgress(events, true)), ['a5@13<2~10', 'b6@14<4~11']);
    assert.deepEqual(events, copies, 'the published events are left as they are');
    assert.deepEqual(
      brief(coalesceProgress(events, false)),
      ['a5@13<2~-', 'b6@14<4~-'],
      'reports never published leave no cursor to name',
    );
  });

  it('never drops or merges across a status change', () => {
    const events = [
      event('a', 2, 1, 1),
      event('a', 3, 2),
      event('a', 4, 3, 3),
      event('a', 5, 4, 4),
      event('b', 1, 5),
    ];
    assert.deepEqual(brief(coalesceProgress(events, true)), ['a2@1<1~-', 'a3@2<-~-', 'a5@4<3~3', 'b1@5<-~-']);
  });

  it('joins a run that was already coalesced, keeping where it began', () => {
    const earlier = { ...event('a', 5, 20, 2), coalescedFrom: 12 };
    assert.deepEqual(brief(coalesceProgress([earlier, event('a', 6, 21, 5)], true)), ['a6@21<2~12']);
  });

  it('leaves alone a report that is not on top of the one before it', () => {
    const events = [event('a', 3, 1, 2), event('a', 5, 2, 4)];
    assert.deepEqual(brief(coalesceProgress(events, true)), ['a3@1<2~-', 'a5@2<4~-']);
    assert.deepEqual(coalesceProgress([], true), []);
  });
});
