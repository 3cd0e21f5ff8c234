import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { eventually } from '@jobtracker/test-support/tokens';
import { fakeServer, gaps, isPoll, pollAnswer, run, SLACK_MS, snapshot } from '../testing/fake-job-api.js';

describe('connection', () => {
  it('stops for good when stopped: no request after stop', async () => {
    const server = fakeServer({
      onStream: (stream) => {
        setTimeout(() => stream.push(snapshot('1')), 1);
        return undefined;
      },
    });
    const connection = run(server.fetch, 'sse');
    await eventually(() => connection.state() === 'live');
    connection.stop();
    const count = server.requests.length;
    await new Promise((resolve) => setTimeout(resolve, 200));
    assert.equal(server.requests.length, count);
  });

  it('polls every pollActiveMs while jobs are active and every pollIdleMs while none is', async () => {
    const server = fakeServer({ onStream: () => undefined, poll: pollAnswer });
    let busy = true;
    const connection = run(server.fetch, 'poll', { busy: () => busy, pollActiveMs: 30, pollIdleMs: 400 });
    const polls = () => server.requests.filter(isPoll).map((request) => request.at);
    await eventually(() => polls().length >= 6, 3000, 'six polls while busy');
    busy = false;
    // The poll in flight (if any) is the last one followed by the busy period.
    const idleFrom = polls().length;
    await eventually(() => polls().length >= idleFrom + 4, 5000, 'four polls while idle');
    connection.stop();
    const busyGaps = gaps(polls().slice(0, 6));
    const idleGaps = gaps(polls().slice(idleFrom, idleFrom + 4));
    for (const gap of busyGaps) assert.ok(gap >= 30 - SLACK_MS && gap < 400, `busy gap ${gap} ms`);
    for (const gap of idleGaps) assert.ok(gap >= 400 - SLACK_MS, `idle gap ${gap} ms`);
  });

  it('polls at once when woken, instead of waiting out its period', async () => {
    const server = fakeServer({ onStream: () => undefined, poll: pollAnswer });
    const connection = run(server.fetch, 'poll', { busy: () => false, pollActiveMs: 5000, pollIdleMs: 5000 });
    await eventually(() => server.requests.some(isPoll), 3000, 'a first poll');
    await new Promise((resolve) => setTimeout(resolve, 100));
    connection.wake();
    await eventually(() => server.requests.filter(isPoll).length >= 2, 1000, 'a poll right after the wake');
    connection.stop();
  });

  it('polls within pollActiveMs, not pollIdleMs, when a job starts during an idle wait', async () => {
    const server = fakeServer({ onStream: () => undefined, poll: pollAnswer });
    let busy = false;
    const connection = run(server.fetch, 'poll', { busy: () => busy, pollActiveMs: 50, pollIdleMs: 5000 });
    await eventually(() => server.requests.some(isPoll), 3000, 'a first poll');
    await new Promise((resolve) => setTimeout(resolve, 200));
    busy = true;
    const startedAt = performance.now();
    await eventually(() => server.requests.filter(isPoll).length >= 2, 3000, 'a poll for the new job');
    connection.stop();
    const waited = (server.requests.filter(isPoll)[1]?.at ?? 0) - startedAt;
    assert.ok(waited < 500, `the next poll came ${Math.round(waited)} ms after the job started`);
  });
});
