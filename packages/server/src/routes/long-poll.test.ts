import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { type JobListResponse, MAX_POLL_WAIT_MS } from '@jobtracker/sdk/wire';
import {
  delay,
  eventually,
  openTestDatabase,
  readBody,
  SECRET,
  TEST_DIALECT,
  tokenFor,
  WORKER_KEY,
} from '@jobtracker/test-support/server';
import { type RunningServer, startServer } from '../app/server.js';

const dir = mkdtempSync(join(tmpdir(), 'jobtracker-long-poll-'));
const MAX_HELD = 3;

/** Timers node holds open right now (held polls must leave none behind). */
describe(`held polls: ?since=…&wait=… (${TEST_DIALECT})`, () => {
  let server: RunningServer;
  let database: Awaited<ReturnType<typeof openTestDatabase>>;

  before(async () => {
    database = await openTestDatabase(`file:${join(dir, 'long-poll.db')}`);
    server = await startServer({
      port: 0,
      db: database.db,
      secret: SECRET,
      workerKey: WORKER_KEY,
      onError: () => {},
      maxHeldPollsPerUser: MAX_HELD,
    });
  });
  after(async () => {
    await server.close();
    await database.drop();
    rmSync(dir, { recursive: true, force: true });
  });

  const send = (path: string, owner: string, init: RequestInit = {}) =>
    fetch(`${server.url}/api${path}`, {
      ...init,
      headers: { Authorization: `Bearer ${tokenFor(owner)}`, ...(init.headers as Record<string, string>) },
    });
  const post = async (path: string, body: unknown, owner?: string) => {
    const response = await fetch(`${server.url}/api${path}`, {
      method: 'POST',
      headers: {
        Authorization: `Bearer ${owner ? tokenFor(owner) : WORKER_KEY}`,
        'Content-Type': 'application/json',
      },
      body: JSON.stringify(body),
    });
    return { status: response.status, json: await readBody(response) };
  };
  /** The owner's cursor and the ETag of a since poll at it. */
  async function current(owner: string) {
    const response = await send('/jobs?since=0', owner);
    const { cursor } = (await response.json()) as JobListResponse;
    const quiet = await send(`/jobs?since=${cursor}`, owner);
    await quiet.body?.cancel();
    return { cursor, etag: quiet.headers.get('etag') ?? '' };
  }
  const held = (owner: string) => server.tracker.engine.hub.waiterCount(owner);

  it('answers a held poll as soon as one of the caller’s jobs changes, with what changed', async () => {
    const created = await post('/jobs', { type: 'lp.wake' }, 'wes');
    const claimed = await post('/worker/claim', { types: ['lp.wake'], workerId: 'w' });
    const { cursor, etag } = await current('wes');
    const startedAt = performance.now();
    const answer = send(`/jobs?since=${cursor}&wait=10000`, 'wes', { headers: { 'If-None-Match': etag } });
    await eventually(() => held('wes') === 1, 2000, 'the poll to be held');
    await delay(100);
    await post(`/worker/jobs/${created.json.job.id}/progress`, {
      leaseToken: claimed.json.leaseToken,
      progress: 40,
    });
    const response = await answer;
    const waited = performance.now() - startedAt;
    assert.equal(response.status, 200);
    const body = (await response.json()) as JobListResponse;
    assert.deepEqual(
      body.progress?.map((delta) => [delta.id, delta.progress]),
      [[created.json.job.id, 40]],
    );
    assert.ok(waited >= 100 && waited < 5000, `answered after ${waited.toFixed(0)} ms, not at the timeout`);
    assert.notEqual(response.headers.get('etag'), etag);
    assert.equal(held('wes'), 0);
  });

  it('answers at once when something changed after the cursor already', async () => {
    const { cursor } = await current('xia');
    await post('/jobs', { type: 'lp.already' }, 'xia');
    const startedAt = performance.now();
    const response = await send(`/jobs?since=${cursor}&wait=${MAX_POLL_WAIT_MS}`, 'xia');
    const body = (await response.json()) as JobListResponse;
    assert.equal(body.jobs.length, 1);
    assert.ok(performance.now() - startedAt < 2000, 'not held');
  });

  it('runs out into a 304 to If-None-Match, else an empty answer', async () => {
    const { cursor, etag } = await current('yan');
    let startedAt = performance.now();
    const unchanged = await send(`/jobs?since=${cursor}&wait=300`, 'yan', {
      headers: { 'If-None-Match': etag },
    });
    assert.equal(unchanged.status, 304);
    assert.equal(await unchanged.text(), '');
    assert.equal(unchanged.headers.get('etag'), etag);
    assert.ok(performance.now() - startedAt >= 290, 'held for the wait');
    startedAt = performance.now();
    const empty = await send(`/jobs?since=${cursor}&wait=300`, 'yan');
    assert.equal(empty.status, 200);
    assert.deepEqual(await empty.json(), { jobs: [], cursor });
    assert.ok(performance.now() - startedAt >= 290, 'held for the wait');
    assert.equal(held('yan'), 0);
  });

  it('is woken by none of another user’s changes, and shows none of them', async () => {
    const { cursor, etag } = await current('zed');
    const startedAt = performance.now();
    const answer = send(`/jobs?since=${cursor}&wait=800`, 'zed', { headers: { 'If-None-Match': etag } });
    await eventually(() => held('zed') === 1, 2000, 'the poll to be held');
    const other = await post('/jobs', { type: 'lp.other' }, 'ann');
    await post('/worker/claim', { types: ['lp.other'], workerId: 'w' });
    await post(`/jobs/${other.json.job.id}/cancel`, {}, 'ann');
    const response = await answer;
    assert.equal(response.status, 304, 'still nothing of mine changed');
    assert.ok(performance.now() - startedAt >= 790, 'held to the end of the wait');
  });

  it('leaves no listener or timer behind when the client goes away', async (t) => {
    const { cursor } = await current('bea');
    // The held polls' own timers (the process has others, e.g. the database pool's idle timers, which
    // come and go on their own): each must be cleared once its poll is let go.
    const pollTimers = new Set<unknown>();
    const cleared = new Set<unknown>();
    const { setTimeout: realSetTimeout, clearTimeout: realClearTimeout } = globalThis;
    t.mock.method(globalThis, 'setTimeout', ((callback: () => void, ms?: number) => {
      const timer = realSetTimeout(callback, ms);
      if (ms === MAX_POLL_WAIT_MS) pollTimers.add(timer);
      return timer;
    }) as typeof setTimeout);
    t.mock.method(globalThis, 'clearTimeout', ((timer?: Parameters<typeof clearTimeout>[0]) => {
      cleared.add(timer);
      realClearTimeout(timer);
    }) as typeof clearTimeout);
    const controllers = [new AbortController(), new AbortController()];
    const answers = controllers.map((controller) =>
      send(`/jobs?since=${cursor}&wait=${MAX_POLL_WAIT_MS}`, 'bea', { signal: controller.signal }).catch(
        (error: unknown) => error,
      ),
    );
    await eventually(() => held('bea') === 2, 2000, 'both polls to be held');
    assert.equal(pollTimers.size, 2, 'each held poll has its timer');
    for (const controller of controllers) controller.abort();
    await Promise.all(answers);
    await eventually(() => held('bea') === 0, 2000, 'the server to let go of both polls');
    await eventually(
      () => [...pollTimers].every((timer) => cleared.has(timer)),
      2000,
      'their timers to be cleared',
    );
    assert.equal(server.tracker.engine.hub.waiterCount(), 0, 'no one waits at all');
  });

  it(`holds at most ${MAX_HELD} polls of one user, and refuses one more with 429`, async () => {
    const { cursor } = await current('cy');
    const controller = new AbortController();
    const answers = Array.from({ length: MAX_HELD }, () =>
      send(`/jobs?since=${cursor}&wait=5000`, 'cy', { signal: controller.signal }).catch(() => null),
    );
    await eventually(() => held('cy') === MAX_HELD, 2000, 'the polls to be held');
    const refused = await send(`/jobs?since=${cursor}&wait=5000`, 'cy');
    assert.equal(refused.status, 429);
    assert.equal(((await refused.json()) as { error: { code: string } }).error.code, 'too_many_polls');
    assert.ok(refused.headers.get('retry-after'), 'says when to try again');
    const neighbour = await send(`/jobs?since=${cursor}&wait=10`, 'dee');
    assert.equal(neighbour.status, 200, 'another user is not counted');
    const plain = await send(`/jobs?since=${cursor}`, 'cy');
    assert.equal(plain.status, 200, 'a poll that does not wait is not refused');
    controller.abort();
    await Promise.all(answers);
    await eventually(() => held('cy') === 0, 2000, 'the polls to be let go');
  });

  it('refuses a wait out of range, or without since, with a JSON 4xx', async () => {
    const { cursor } = await current('eve');
    for (const [query, status, code] of [
      [`since=${cursor}&wait=-1`, 422, 'invalid_request'],
      [`since=${cursor}&wait=${MAX_POLL_WAIT_MS + 1}`, 422, 'invalid_request'],
      [`since=${cursor}&wait=1.5`, 422, 'invalid_request'],
      [`since=${cursor}&wait=soon`, 422, 'invalid_request'],
      ['wait=1000', 400, 'invalid_query'],
      [`since=${cursor}&wait=10&wait=20`, 400, 'invalid_query'],
    ] as const) {
      const response = await send(`/jobs?${query}`, 'eve');
      assert.equal(response.status, status, query);
      assert.match(response.headers.get('content-type') ?? '', /json/);
      assert.equal(((await response.json()) as { error: { code: string } }).error.code, code, query);
    }
    const zero = await send(`/jobs?since=${cursor}&wait=0`, 'eve');
    assert.equal(zero.status, 200, 'wait=0 answers at once');
  });
});
