import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import {
  delay,
  openTestDatabase,
  readBody,
  SECRET,
  SseReader,
  tokenFor,
  WORKER_KEY,
} from '@jobtracker/test-support/server';
import { type RunningServer, startServer } from '../app/server.js';

const dir = mkdtempSync(join(tmpdir(), 'jobtracker-worker-events-'));

// A host that reports jobs learns of its users' cancels from one stream, without polling each job.
describe('worker event stream (GET /api/worker/events) over a real HTTP server', () => {
  let server: RunningServer;
  let database: Awaited<ReturnType<typeof openTestDatabase>>;
  const alice = tokenFor('alice');
  const bob = tokenFor('bob');
  const open: AbortController[] = [];

  before(async () => {
    database = await openTestDatabase(`file:${join(dir, 'events.db')}`);
    server = await startServer({
      port: 0,
      db: database.db,
      secret: SECRET,
      workerKey: WORKER_KEY,
      heartbeatMs: 200,
      retryMs: 1500,
      onError: () => {},
      engine: { progressFlushMs: 50 },
    });
  });
  after(async () => {
    for (const controller of open) controller.abort();
    await server.close();
    await database.drop();
    rmSync(dir, { recursive: true, force: true });
  });

  const api = async (path: string, body?: unknown, token = WORKER_KEY) => {
    const response = await fetch(`${server.url}/api${path}`, {
      method: body === undefined ? 'GET' : 'POST',
      headers: {
        Authorization: `Bearer ${token}`,
        ...(body === undefined ? {} : { 'Content-Type': 'application/json' }),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    return { status: response.status, json: await readBody(response) };
  };
  const report = async (owner: string, externalId: string, type = 'ev.report') => {
    const answer = await api('/worker/jobs', { owner, type, externalId, status: 'running', dedupe: false });
    assert.equal(answer.status, 200, JSON.stringify(answer.json));
    return answer.json as { job: { id: string }; reportToken: string };
  };
  const cancel = (id: string, token: string) => api(`/jobs/${id}/cancel`, {}, token);

  async function events(headers: Record<string, string> = {}, query = '', token = WORKER_KEY) {
    const controller = new AbortController();
    open.push(controller);
    const response = await fetch(`${server.url}/api/worker/events${query}`, {
      headers: { Authorization: `Bearer ${token}`, ...headers },
      signal: controller.signal,
    });
    if (response.status !== 200) return { response, reader: null, close: () => controller.abort() };
    return { response, reader: new SseReader(response), close: () => controller.abort() };
  }
  const cancels = (reader: SseReader) =>
    reader.events
      .filter((event) => event.event === 'cancel')
      .map((event) => ({ cursor: event.id, ...JSON.parse(event.data) }));

  it('opens with the stream headers, a retry hint, ready and heartbeats', async () => {
    const { response, reader, close } = await events();
    assert.ok(reader, 'a stream');
    assert.match(response.headers.get('content-type') ?? '', /^text\/event-stream/);
    assert.equal(response.headers.get('x-accel-buffering'), 'no');
    assert.match(response.headers.get('cache-control') ?? '', /no-cache/);
    await reader.until(() => reader.ready.length === 1, 5000, 'ready');
    assert.equal(reader.retry, 1500);
    await reader.until(() => reader.comments.includes('heartbeat'), 2000, 'a heartbeat');
    close();
  });

  it("carries a cancel for each reported job its user cancelled, of every owner, and no other job's", async () => {
    const { reader, close } = await events();
    assert.ok(reader, 'a stream');
    await reader.until(() => reader.ready.length === 1, 5000, 'ready');
    const a = await report('alice', 'ext-a');
    const b = await report('bob', 'ext-b');
    const kept = await report('alice', 'ext-kept');
    const users = await api('/jobs', { type: 'ev.user' }, alice);
    await cancel(users.json.job.id, alice);
    await cancel(a.job.id, alice);
    await cancel(b.job.id, bob);
    await reader.until(() => cancels(reader).length >= 2, 5000, 'two cancels');
    await delay(200);
    const seen = cancels(reader);
    assert.deepEqual(
      seen.map(({ id, externalId, owner }) => ({ id, externalId, owner })),
      [
        { id: a.job.id, externalId: 'ext-a', owner: 'alice' },
        { id: b.job.id, externalId: 'ext-b', owner: 'bob' },
      ],
    );
    assert.ok(Number(seen[0]?.cursor) < Number(seen[1]?.cursor), 'cursors rise');
    assert.ok(
      !seen.some((event) => event.id === kept.job.id || event.id === users.json.job.id),
      'no cancel of a job still running, or of a job a worker runs',
    );
    close();
  });

  it('replays the cancels after Last-Event-ID (or ?since=), in order, and only those', async () => {
    const first = await events();
    assert.ok(first.reader, 'a stream');
    const before = await report('alice', 'ext-before');
    await cancel(before.job.id, alice);
    await first.reader.until(() => cancels(first.reader as SseReader).some((e) => e.id === before.job.id));
    const last = cancels(first.reader).at(-1)?.cursor as string;
    first.close();

    const missed = [await report('alice', 'ext-m1'), await report('bob', 'ext-m2')];
    for (const [i, job] of missed.entries()) await cancel(job.job.id, i === 0 ? alice : bob);

    for (const [headers, query] of [
      [{ 'Last-Event-ID': last }, ''],
      [{}, `?since=${last}`],
    ] as const) {
      const again = await events(headers, query);
      assert.ok(again.reader, 'a stream');
      await again.reader.until(() => (again.reader as SseReader).ready.length === 1, 5000, 'ready');
      assert.deepEqual(
        cancels(again.reader).map((event) => event.externalId),
        ['ext-m1', 'ext-m2'],
        'the missed cancels, before ready',
      );
      assert.equal(again.reader.ready[0]?.afterEvents, 2);
      again.close();
    }
  });

  it('carries a cancel once, at the cancel, also when the user dismisses or brings back the cancelled job after it', async () => {
    const live = await events();
    assert.ok(live.reader, 'a stream');
    await live.reader.until(() => (live.reader as SseReader).ready.length === 1, 5000, 'ready');
    const last = String(live.reader.ready[0]?.cursor);

    const job = await report('alice', 'ext-dismissed');
    await cancel(job.job.id, alice);
    await live.reader.until(() => cancels(live.reader as SseReader).length === 1, 5000, 'the cancel');
    const atCancel = cancels(live.reader)[0]?.cursor as string;
    assert.equal((await api(`/jobs/${job.job.id}/dismiss`, {}, alice)).status, 200);
    assert.equal((await api(`/jobs/${job.job.id}/dismiss`, { dismissed: false }, alice)).status, 200);
    await delay(300);
    assert.deepEqual(
      cancels(live.reader).map((event) => event.externalId),
      ['ext-dismissed'],
      'live: one cancel, none for the dismissal or the return',
    );
    live.close();

    for (const [from, expected] of [
      [last, ['ext-dismissed']],
      [atCancel, []],
    ] as const) {
      const again = await events({ 'Last-Event-ID': from });
      assert.ok(again.reader, 'a stream');
      await again.reader.until(() => (again.reader as SseReader).ready.length === 1, 5000, 'ready');
      assert.deepEqual(
        cancels(again.reader).map((event) => [event.externalId, event.cursor]),
        expected.map((externalId) => [externalId, atCancel]),
        `replayed from ${from === last ? 'before' : 'at'} the cancel`,
      );
      again.close();
    }
  });

  it('answers reset first to a cursor that is not from this log, then goes live from its end', async () => {
    const { reader, close } = await events({ 'Last-Event-ID': '9000000000000000' });
    assert.ok(reader, 'a stream');
    await reader.until(() => reader.ready.length === 1, 5000, 'ready');
    assert.deepEqual(
      reader.events.map((event) => event.event),
      ['reset'],
    );
    assert.ok(Number(reader.ready[0]?.cursor) < 9_000_000_000_000_000, 'back at the log’s end');
    const job = await report('alice', 'ext-after-reset');
    await cancel(job.job.id, alice);
    await reader.until(() => cancels(reader).some((event) => event.id === job.job.id), 5000, 'the cancel');
    close();
  });

  it('needs the worker key, and refuses a bad cursor with a 4xx JSON error', async () => {
    for (const token of ['wrong-key', alice]) {
      const { response } = await events({}, '', token);
      assert.equal(response.status, 401);
      assert.equal((await readBody(response)).error.code, 'unauthorized');
    }
    const { response } = await events({ 'Last-Event-ID': 'not-a-cursor' });
    assert.equal(response.status, 422);
    assert.equal((await readBody(response)).error.code, 'invalid_request');
  });

  it("shows a reported job on its owner's stream, never on another user's", async () => {
    const streamOf = async (token: string) => {
      const controller = new AbortController();
      open.push(controller);
      const response = await fetch(`${server.url}/api/jobs/stream`, {
        headers: { Authorization: `Bearer ${token}` },
        signal: controller.signal,
      });
      const reader = new SseReader(response);
      await reader.until(() => reader.ready.length === 1, 5000, 'ready');
      return { reader, close: () => controller.abort() };
    };
    const a = await streamOf(alice);
    const b = await streamOf(bob);
    const { job, reportToken } = await report('alice', 'ext-stream', 'ev.visible');
    await api(`/worker/jobs/${job.id}/progress`, { leaseToken: reportToken, progress: 40 });
    await a.reader.until(() => a.reader.jobs().some((seen) => seen.id === job.id && seen.progress === 40));
    await delay(200);
    assert.ok(!JSON.stringify(b.reader.events).includes(job.id), "never on bob's stream");
    a.close();
    b.close();
  });
});
