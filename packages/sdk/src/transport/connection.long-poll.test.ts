import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { eventually } from '@jobtracker/test-support/tokens';
import { fakeJobApi, gaps, isPoll, run, SLACK_MS, wireJob } from '../testing/fake-job-api.js';

const delay = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
type Requests = ReturnType<typeof fakeJobApi>['requests'];
const polls = (requests: Requests) => requests.filter(isPoll);
const waitOf = (request: { path: string } | undefined) =>
  new URL(`http://x${request?.path ?? ''}`).searchParams.get('wait');

describe('connection: long polls', () => {
  it('holds one poll while idle and sees a new job at once', async () => {
    const api = fakeJobApi();
    const connection = run(api.fetch, 'poll', { busy: () => false, pollActiveMs: 50, pollIdleMs: 5000 });
    await eventually(() => connection.state() === 'polling', 3000, 'polling');
    await delay(400);
    assert.equal(polls(api.requests).length, 2, 'the first poll, then one held poll');
    assert.equal(waitOf(polls(api.requests)[0]), null, 'the first poll answers at once');
    assert.equal(waitOf(polls(api.requests)[1]), '5000', 'the next is held up to pollIdleMs');
    const startedAt = performance.now();
    api.put(wireJob('a'));
    await eventually(() => connection.jobs().a, 1000, 'the new job');
    connection.stop();
    assert.ok(performance.now() - startedAt < 200, 'shown as soon as it was created');
  });

  it('holds polls 25 s by default, and never longer than the API allows', async () => {
    for (const [pollIdleMs, wait] of [
      [undefined, '25000'],
      [120_000, '30000'],
    ] as const) {
      const api = fakeJobApi();
      const connection = run(api.fetch, 'poll', { busy: () => false, ...(pollIdleMs ? { pollIdleMs } : {}) });
      await eventually(() => polls(api.requests).length === 2, 3000, 'a held poll');
      connection.stop();
      assert.equal(waitOf(polls(api.requests)[1]), wait);
    }
  });

  it('while a job is active, asks again pollActiveMs after an answer with changes, taking them together', async () => {
    const api = fakeJobApi();
    api.put(wireJob('a'));
    const connection = run(api.fetch, 'poll', { pollActiveMs: 250, pollIdleMs: 5000 });
    await eventually(() => connection.jobs().a, 3000, 'the job');
    let progress = 0;
    const reports = setInterval(() => api.progress('a', ++progress), 20);
    await delay(1400);
    clearInterval(reports);
    connection.stop();
    const sent = polls(api.requests).map((request) => request.at);
    assert.ok(sent.length <= 8, `${sent.length} polls for ${progress} progress reports`);
    for (const gap of gaps(sent.slice(1)))
      assert.ok(gap >= 250 - SLACK_MS, `polls ${Math.round(gap)} ms apart`);
    assert.ok((connection.jobs().a?.progress ?? 0) >= progress - 15, 'the client keeps up');
  });

  it('sends If-None-Match only when the last answer had no changes', async () => {
    const api = fakeJobApi();
    api.put(wireJob('a'));
    const connection = run(api.fetch, 'poll', { pollActiveMs: 30, pollIdleMs: 150 });
    await eventually(() => connection.jobs().a, 3000, 'the job');
    api.progress('a', 1);
    await eventually(() => connection.jobs().a?.progress === 1, 3000, 'progress');
    const changedAt = polls(api.requests).length;
    await eventually(() => polls(api.requests).length >= changedAt + 3, 3000, 'quiet polls');
    connection.stop();
    const [afterChange, afterQuiet] = polls(api.requests).slice(changedAt, changedAt + 2);
    assert.equal(afterChange?.headers.get('if-none-match'), null, 'after changes an ETag cannot help');
    assert.equal(
      afterQuiet?.headers.get('if-none-match'),
      `"${api.cursor}-t"`,
      'after a quiet answer it can',
    );
  });

  for (const [how, cut] of [
    ['resets it', () => Promise.reject(new TypeError('fetch failed'))],
    [
      'answers 504 after a while',
      () => delay(50).then(() => new Response('Gateway Timeout', { status: 504 })),
    ],
    [
      'refuses the wait parameter (an older server)',
      () => Promise.resolve(Response.json({}, { status: 400 })),
    ],
  ] as const) {
    it(`falls back to short polls without an error when a proxy cuts held polls (${how}), and holds again later`, async () => {
      const api = fakeJobApi();
      let cutting = true;
      const fetch = ((input, init) =>
        cutting && String(input).includes('wait=')
          ? cut()
          : api.fetch(input, init)) as typeof globalThis.fetch;
      const connection = run(fetch, 'poll', {
        busy: () => false,
        pollActiveMs: 20,
        pollIdleMs: 100,
        holdRetryMs: 600,
      });
      await eventually(() => connection.state() === 'polling', 3000, 'polling');
      await delay(500);
      const short = polls(api.requests).filter((r) => !r.path.includes('wait=')).length;
      assert.ok(short >= 3 && short <= 7, `${short} short polls every pollIdleMs meanwhile`);
      cutting = false;
      await eventually(() => polls(api.requests).some((r) => r.path.includes('wait=')), 2000, 'holds again');
      api.put(wireJob('a'));
      await eventually(() => connection.jobs().a, 1000, 'the job');
      connection.stop();
      assert.deepEqual(
        [...new Set(connection.statuses.map((s) => s.state))],
        ['connecting', 'polling'],
        'never an error',
      );
    });
  }

  it('reports the error when the short poll after a failed held poll fails too (the server is away)', async () => {
    const api = fakeJobApi();
    let down = false;
    const fetch = ((input, init) =>
      down
        ? Promise.reject(new TypeError('fetch failed'))
        : api.fetch(input, init)) as typeof globalThis.fetch;
    const connection = run(fetch, 'poll', { busy: () => false, pollIdleMs: 5000 });
    await eventually(() => connection.state() === 'polling', 3000, 'polling');
    await delay(50);
    down = true;
    connection.wake();
    await eventually(() => connection.state() === 'error', 3000, 'the error');
    down = false;
    await eventually(() => connection.state() === 'polling', 5000, 'back');
    connection.stop();
  });

  it('ends a held poll and polls at once when woken, without an error', async () => {
    const api = fakeJobApi();
    const connection = run(api.fetch, 'poll', { busy: () => false, pollIdleMs: 5000 });
    await eventually(() => polls(api.requests).length === 2, 3000, 'a held poll');
    await delay(100);
    connection.wake();
    await eventually(() => polls(api.requests).length === 3, 300, 'a poll right after the wake');
    await delay(100);
    connection.stop();
    assert.equal(polls(api.requests).length, 3);
    assert.equal(waitOf(polls(api.requests)[2]), '5000', 'held again');
    assert.ok(
      connection.statuses.every((s) => s.state !== 'error'),
      'a wake is no failure',
    );
  });

  it('pauses while hidden once the held poll answers, and polls again when woken', async () => {
    const api = fakeJobApi();
    let hidden = false;
    const connection = run(api.fetch, 'poll', { busy: () => false, pollIdleMs: 100, hidden: () => hidden });
    await eventually(() => polls(api.requests).length >= 3, 3000, 'polling');
    hidden = true;
    await delay(250);
    const whileHidden = polls(api.requests).length;
    await delay(500);
    assert.equal(polls(api.requests).length, whileHidden, 'no poll while hidden');
    hidden = false;
    connection.wake();
    await eventually(() => polls(api.requests).length > whileHidden, 300, 'a poll when shown');
    connection.stop();
  });

  it('holds a poll no longer than until a blocked stream is due to be tried again, and tries it on time', async () => {
    const api = fakeJobApi();
    const fetch = ((input, init) =>
      String(input).endsWith('/jobs/stream')
        ? Promise.resolve(new Response('blocked', { status: 502 }))
        : api.fetch(input, init)) as typeof globalThis.fetch;
    const streams: number[] = [];
    const counting = ((input, init) => {
      if (String(input).endsWith('/jobs/stream')) streams.push(performance.now());
      return fetch(input, init);
    }) as typeof globalThis.fetch;
    const connection = run(counting, 'auto', {
      busy: () => false,
      pollIdleMs: 5000,
      sseRetryFirstMs: 600,
      sseRetryMs: 600,
    });
    await eventually(() => streams.length >= 3, 4000, 'the stream tried again twice');
    connection.stop();
    const held = polls(api.requests).filter((r) => r.path.includes('wait='));
    assert.ok(held.length > 0, 'polls were held meanwhile');
    for (const request of held) {
      const wait = Number(waitOf(request));
      assert.ok(wait > 0 && wait <= 600, `a poll held ${wait} ms, not past the stream's next try`);
    }
    for (const gap of gaps(streams).slice(1))
      assert.ok(gap < 1000, `the stream tried again ${Math.round(gap)} ms later`);
  });
});
