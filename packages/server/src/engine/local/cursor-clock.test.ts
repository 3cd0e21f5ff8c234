import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CursorClock } from './cursor-clock.js';

describe('cursor clock (local mode)', () => {
  it('gives microsecond time cursors that rise by at least one, also when the clock stands or goes back', () => {
    let now = 1000;
    const clock = new CursorClock(() => now);
    assert.equal(clock.start(0), 1_000_000);
    assert.equal(clock.next(), 1_000_001, 'the same millisecond');
    now = 1002;
    assert.equal(clock.next(), 1_002_000);
    now = 900;
    assert.equal(clock.next(), 1_002_001, 'a clock that went back');
  });

  it('starts above the highest cursor the log ever held, even one ahead of the clock', () => {
    const clock = new CursorClock(() => 1000);
    assert.equal(clock.start(5_000_000), 5_000_000);
    assert.equal(clock.next(), 5_000_001);
  });

  it('calls lost the cursors published before a restart that the log never got', () => {
    let now = 1000;
    const before = new CursorClock(() => now);
    before.start(0);
    const committed = before.next();
    const published = [before.next(), before.next()];
    now = 2000;
    const after = new CursorClock(() => now);
    const start = after.start(committed);
    assert.deepEqual(
      published.map((cursor) => after.isLost(cursor)),
      [true, true],
    );
    assert.equal(after.isLost(committed), false, 'a committed cursor resumes');
    assert.equal(after.isLost(start), false, 'the start cursor resumes');
    assert.equal(after.isLost(after.next()), false);
    assert.equal(new CursorClock(() => now).isLost(5), false, 'nothing is lost before a start');
  });
});
