import assert from 'node:assert/strict';
import { describe, it, mock } from 'node:test';
import { every } from './every.js';

describe('every', () => {
  it('runs a task at each interval until stopped, and reports its failures', async () => {
    mock.timers.enable({ apis: ['setInterval'] });
    try {
      const errors: unknown[] = [];
      let runs = 0;
      const stop = every(
        100,
        async () => {
          runs++;
          if (runs === 2) throw new Error('task failed');
        },
        (error) => errors.push(error),
      );
      mock.timers.tick(250);
      await new Promise((resolve) => setImmediate(resolve));
      assert.equal(runs, 2);
      assert.match(String(errors[0]), /task failed/);
      stop();
      mock.timers.tick(500);
      assert.equal(runs, 2, 'a stopped task runs no more');
    } finally {
      mock.timers.reset();
    }
  });
});
