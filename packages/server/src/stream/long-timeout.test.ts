import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { MAX_TIMER_MS, setLongTimeout } from './long-timeout.js';

const DAY_MS = 86_400_000;

describe('setLongTimeout', () => {
  it('fires after a delay longer than a Node timer can hold, and not before', (t) => {
    t.mock.timers.enable({ apis: ['setTimeout', 'Date'], now: 1_000_000 });
    let fired = 0;
    setLongTimeout(() => fired++, 40 * DAY_MS);
    t.mock.timers.tick(MAX_TIMER_MS);
    assert.equal(fired, 0, 'not after 24.8 days');
    t.mock.timers.tick(40 * DAY_MS - MAX_TIMER_MS - 1);
    assert.equal(fired, 0, 'not 1 ms early');
    t.mock.timers.tick(1);
    assert.equal(fired, 1, 'after 40 days');
    t.mock.timers.tick(100 * DAY_MS);
    assert.equal(fired, 1, 'once');
  });

  it('can be cancelled between two steps', (t) => {
    t.mock.timers.enable({ apis: ['setTimeout', 'Date'], now: 0 });
    let fired = 0;
    const cancel = setLongTimeout(() => fired++, 3 * MAX_TIMER_MS);
    t.mock.timers.tick(MAX_TIMER_MS + 5);
    cancel();
    t.mock.timers.tick(3 * MAX_TIMER_MS);
    assert.equal(fired, 0, 'a cancelled timer never fires');
  });

  it('fires a past or zero delay at once', (t) => {
    t.mock.timers.enable({ apis: ['setTimeout', 'Date'], now: 0 });
    let fired = 0;
    setLongTimeout(() => fired++, -5);
    t.mock.timers.tick(0);
    assert.equal(fired, 1, 'fired');
  });
});
