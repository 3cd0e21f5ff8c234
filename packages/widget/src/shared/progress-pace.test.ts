import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Job } from '@jobtracker/sdk';
import { ProgressPace } from './progress-pace.js';

const START = Date.parse('2030-01-01T00:00:00.000Z');

function running(progress: number | null, attempt = 1, startedAt = START): Job {
  return {
    id: '01m8k0x60974smd8gnmwwmw5aa',
    type: 'demo.generate',
    scope: null,
    title: null,
    status: 'running',
    progress,
    message: null,
    result: null,
    error: null,
    attempt,
    maxAttempts: 3,
    retryOf: null,
    version: 1,
    createdAt: new Date(START).toISOString(),
    startedAt: new Date(startedAt).toISOString(),
    updatedAt: new Date(startedAt).toISOString(),
    completedAt: null,
    dismissedAt: null,
  };
}

/** Seconds left at `progress` for a rate in percent per millisecond. */
const left = (rate: number | null, progress: number) =>
  rate === null ? null : (100 - progress) / rate / 1000;

describe('ProgressPace', () => {
  it("is the attempt's average pace while the attempt is younger than its window", () => {
    const pace = new ProgressPace();
    pace.rate(running(10), START + 1000);
    const rate = pace.rate(running(10), START + 4000);
    assert.equal(left(rate, 10), 36, '10 % in 4 s: 36 s left');
  });

  it('follows the recent pace once the job sped up: a slow start no longer counts', () => {
    const pace = new ProgressPace();
    // 10 % in the first 30 s, then 10 % every 2 s.
    pace.rate(running(10), START + 30_000);
    for (let second = 32, progress = 20; progress <= 60; second += 2, progress += 10) {
      pace.rate(running(progress), START + second * 1000);
    }
    const rate = pace.rate(running(60), START + 40_000);
    const seconds = left(rate, 60) ?? Number.NaN;
    // Over the attempt it would be 40 × 40/60 ≈ 27 s; at the recent 5 %/s about 8 s (measured from 30 s).
    assert.ok(seconds > 6 && seconds < 10, `about 8 s left at the recent pace, not ${seconds}`);
  });

  it('slows the estimate down while a job makes no progress', () => {
    const pace = new ProgressPace();
    for (let second = 1; second <= 10; second++) pace.rate(running(second * 5), START + second * 1000);
    const fast = left(pace.rate(running(50), START + 10_000), 50) ?? 0;
    const stalled = left(pace.rate(running(50), START + 40_000), 50) ?? 0;
    assert.ok(stalled > fast * 3, `a 30 s stall raises the estimate (${fast} s → ${stalled} s)`);
  });

  it('counts from the start of a new attempt, forgetting the last one', () => {
    const pace = new ProgressPace();
    pace.rate(running(40), START + 5000);
    const restart = START + 60_000;
    pace.rate(running(null, 2, restart), restart);
    const rate = pace.rate(running(25, 2, restart), restart + 3000);
    assert.equal(left(rate, 25), 9, '25 % in the 3 s of this attempt: 9 s left');
  });

  it('knows nothing without progress or a start', () => {
    const pace = new ProgressPace();
    assert.equal(pace.rate(running(null), START + 5000), null);
    assert.equal(pace.rate({ ...running(50), startedAt: null }, START + 5000), null);
  });
});
