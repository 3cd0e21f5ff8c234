import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import {
  delay,
  eventually,
  openTestDatabase,
  openTestTracker,
  readBody,
  SECRET,
  SseReader,
  tokenFor,
  WORKER_KEY,
} from '@jobtracker/test-support/server';
import { KEEP_ALIVE_MS, type RunningServer, startServer } from '../app/server.js';

const dir = mkdtempSync(join(tmpdir(), 'jobtracker-stream-'));

describe('job stream over a real HTTP server on a file database', () => {
  let server: RunningServer;
  const alice = tokenFor('alice');
  const bob = tokenFor('bob');
  const open: AbortController[] = [];

  let database: Awaited<ReturnType<typeof openTestDatabase>>;

  before(async () => {
    database = await openTestDatabase(`file:${join(dir, 'stream.db')}`);
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

  async function stream(
    token: string,
    headers: Record<string, string> = {},
    query = '',
    known: ReturnType<SseReader['jobs']> = [],
  ) {
    const controller = new AbortController();
    open.push(controller);
    const response = await fetch(`${server.url}/api/jobs/stream${query}`, {
      headers: { Authorization: `Bearer ${token}`, ...headers },
      signal: controller.signal,
    });
    assert.equal(response.status, 200);
    return { reader: new SseReader(response, known), response, close: () => controller.abort() };
  }

  const api = async (path: string, body?: unknown, token = alice, worker = false) => {
    const response = await fetch(`${server.url}/api${path}`, {
      method: body === undefined ? 'GET' : 'POST',
      headers: {
        Authorization: `Bearer ${worker ? WORKER_KEY : token}`,
        ...(body === undefined ? {} : { 'Content-Type': 'application/json' }),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    return { status: response.status, json: response.status === 204 ? null : await readBody(response) };
  };

  async function claim(type: string) {
    const claimed = await api('/worker/claim', { types: [type], workerId: 'test' }, alice, true);
    assert.equal(claimed.status, 200);
    return claimed.json as { job: { id: string }; leaseToken: string };
  }
  const progress = (id: string, leaseToken: string, value: number, message?: string) =>
    api(`/worker/jobs/${id}/progress`, { leaseToken, progress: value, message }, alice, true);

  it('opens with the stream headers, a retry hint and a snapshot of the caller’s jobs', async () => {
    const created = await api('/jobs', { type: 'snap', title: 'Visible' });
    await api('/jobs', { type: 'snap', title: 'Bob’s' }, bob);
    const { reader, response, close } = await stream(alice);
    assert.match(response.headers.get('content-type') ?? '', /^text\/event-stream/);
    assert.equal(response.headers.get('x-accel-buffering'), 'no');
    assert.match(response.headers.get('cache-control') ?? '', /no-cache/);
    await reader.until(() => reader.events.length >= 1);
    const [snapshot] = reader.events;
    assert.equal(snapshot?.event, 'snapshot');
    assert.equal(reader.retry, 1500);
    const body = JSON.parse(snapshot?.data ?? '{}');
    assert.equal(snapshot?.id, body.cursor);
    await reader.until(() => reader.ready.length === 1);
    assert.deepEqual(reader.ready, [{ cursor: body.cursor, afterEvents: 1 }], 'ready follows the snapshot');
    assert.deepEqual(
      body.jobs.map((j: { title: string }) => j.title),
      ['Visible'],
    );
    assert.ok(
      body.jobs.some((j: { id: string }) => j.id === created.json.job.id),
      'the snapshot holds the job',
    );
    await reader.until(() => reader.comments.includes('heartbeat'), 2000, 'a heartbeat');
    close();
  });

  it('delivers changes live, only to their owner', async () => {
    const a = await stream(alice);
    const b = await stream(bob);
    await a.reader.until(() => a.reader.events.length === 1);
    await b.reader.until(() => b.reader.events.length === 1);
    const { json } = await api('/jobs', { type: 'live', title: 'alice private title' });
    const job = await claim('live');
    await progress(job.job.id, job.leaseToken, 25, 'Quarter');
    await a.reader.until(() => a.reader.jobs().some((j) => j.progress === 25));
    const versions = a.reader
      .jobs()
      .filter((j) => j.id === json.job.id)
      .map((j) => j.version);
    assert.deepEqual(versions, [1, 2, 3]);
    await delay(100);
    assert.equal(b.reader.events.length, 1);
    assert.equal(JSON.stringify(b.reader.events).includes('alice private title'), false);
    a.close();
    b.close();
  });

  it('replays exactly the missed events, in order, after Last-Event-ID', async () => {
    const first = await stream(alice);
    await first.reader.until(() => first.reader.events.length === 1);
    await api('/jobs', { type: 'resume' });
    const job = await claim('resume');
    await progress(job.job.id, job.leaseToken, 10);
    await first.reader.until(() => first.reader.jobs().some((j) => j.progress === 10));
    const lastSeen = first.reader.lastId ?? '';
    const seenBefore = first.reader
      .jobs()
      .filter((j) => j.id === job.job.id)
      .map((j) => j.version);
    first.close();

    // While disconnected: progress (some flushed, some not yet), a new job, completion.
    for (const value of [20, 30, 40]) await progress(job.job.id, job.leaseToken, value);
    await delay(120);
    for (const value of [50, 60]) await progress(job.job.id, job.leaseToken, value);
    const other = await api('/jobs', { type: 'resume-other' });
    await api(
      `/worker/jobs/${job.job.id}/complete`,
      { leaseToken: job.leaseToken, result: { url: '/r/1' } },
      alice,
      true,
    );

    const second = await stream(alice, { 'Last-Event-ID': lastSeen }, '', first.reader.jobs());
    await second.reader.until(() => second.reader.jobs().some((j) => j.status === 'completed'));
    await delay(100);
    assert.ok(
      second.reader.events.every((e) => e.event === 'job' || e.event === 'progress'),
      'a replay, not a snapshot',
    );
    const ids = second.reader.events.map((e) => BigInt(e.id ?? '0'));
    assert.ok(
      ids.every((id, i) => id > BigInt(lastSeen) && (i === 0 || id > (ids[i - 1] as bigint))),
      'strictly after the cursor, in order',
    );
    assert.equal(
      second.reader.ready[0]?.afterEvents,
      second.reader.events.length,
      'ready follows the replay',
    );
    const v = Math.max(...seenBefore);
    // The log keeps a job's last progress report of each flush: the replay holds at least the last one
    // before each pause, every status change, and nothing twice.
    const states = second.reader.jobs().map((j) => [j.id, j.version, j.progress]);
    const versions = states.filter(([id]) => id === job.job.id).map(([, version]) => version as number);
    assert.ok(
      versions.every((version, i) => version > v && (i === 0 || version > (versions[i - 1] as number))),
      `each version once, rising: ${versions}`,
    );
    assert.deepEqual(
      states.filter(
        ([id, version]) => id !== job.job.id || [v + 3, v + 5, v + 6].includes(version as number),
      ),
      [
        [job.job.id, v + 3, 40],
        [job.job.id, v + 5, 60],
        [other.json.job.id, 1, null],
        [job.job.id, v + 6, 100],
      ],
      'the missed changes, in order',
    );
    assert.deepEqual(second.reader.deltaGaps(), [], 'every delta applies on top of what came before it');
    assert.equal(second.reader.jobs().at(-1)?.status, 'completed');

    const intruder = await stream(bob, { 'Last-Event-ID': lastSeen });
    await delay(150);
    assert.deepEqual(intruder.reader.events, [], 'another user’s replay carries none of these events');
    assert.equal(intruder.reader.ready.length, 1, 'but it is told it is current');
    intruder.close();
    second.close();
  });

  it('replays after ?since= exactly as after Last-Event-ID', async () => {
    const from = (await api('/jobs?since=0')).json.cursor;
    const created = await api('/jobs', { type: 'since-query' });
    const { reader, close } = await stream(alice, {}, `?since=${from}`);
    await reader.until(() => reader.events.length >= 1);
    await delay(50);
    assert.deepEqual(
      reader.events.map((e) => [e.event, JSON.parse(e.data).id]),
      [['job', created.json.job.id]],
    );
    close();
  });

  it('sends reset and a fresh snapshot for a cursor older than the log keeps', async () => {
    await api('/jobs', { type: 'old-cursor' });
    // Drop the whole log as retention would after a long absence; the engine then reads the new watermark.
    await server.tracker.engine.store.pruneEvents(Date.now() + 1000);
    await server.tracker.engine.prune();
    const { reader, close } = await stream(alice, { 'Last-Event-ID': '1' });
    await reader.until(() => reader.events.length >= 1);
    assert.equal(reader.events[0]?.event, 'reset');
    const body = JSON.parse(reader.events[0]?.data ?? '{}');
    assert.ok(body.jobs.length > 0 && body.cursor, 'a snapshot with jobs and a cursor');
    close();
    const bad = await fetch(`${server.url}/api/jobs/stream`, {
      headers: { Authorization: `Bearer ${alice}`, 'Last-Event-ID': 'not-a-cursor' },
    });
    assert.equal(bad.status, 422);
  });

  it('keeps CR and LF in job text from ever splitting an SSE frame', async () => {
    const { reader, close } = await stream(alice);
    await reader.until(() => reader.events.length === 1);
    const nasty = 'line1\r\nevent: reset\ndata: {"jobs":[]}\r\rid: 999999999999999\n\n: x';
    await api('/jobs', { type: 'crlf', title: nasty });
    const job = await claim('crlf');
    await progress(job.job.id, job.leaseToken, 5, nasty);
    await reader.until(() => reader.jobs().some((j) => j.message === nasty));
    assert.deepEqual(
      reader.events.slice(1).map((e) => e.event),
      ['job', 'job', 'progress'],
      'only the job’s events after the snapshot',
    );
    assert.ok(
      reader.jobs().every((j) => j.title === nasty),
      'every title arrives intact',
    );
    close();
  });

  it('ends a stream when its token expires', async () => {
    const shortLived = tokenFor('alice', 1);
    const { reader } = await stream(shortLived);
    await reader.until(() => reader.events.length === 1);
    await eventually(() => reader.ended, 8000, 'the stream to end at token expiry');
  });

  it('refuses an oversized body with 413 whether its length is declared or it arrives chunked', async () => {
    const post = (headers: Record<string, string | number>, chunks: string[]) =>
      new Promise<{ status: number; body: string }>((resolve, reject) => {
        const req = request(
          `${server.url}/api/jobs`,
          {
            method: 'POST',
            headers: { Authorization: `Bearer ${alice}`, 'Content-Type': 'application/json', ...headers },
          },
          (res) => {
            let body = '';
            res.setEncoding('utf8');
            res.on('data', (chunk) => {
              body += chunk;
            });
            res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
          },
        );
        req.on('error', reject);
        for (const chunk of chunks) req.write(chunk);
        req.end();
      });
    const big = JSON.stringify({ type: 'x', title: 'y'.repeat(300_000) });
    const declared = await post({ 'Content-Length': Buffer.byteLength(big) }, [big]);
    assert.equal(declared.status, 413);
    assert.equal(JSON.parse(declared.body).error.code, 'payload_too_large');
    const chunked = await post({ 'Transfer-Encoding': 'chunked' }, [
      big.slice(0, 100_000),
      big.slice(100_000),
    ]);
    assert.equal(chunked.status, 413);
    assert.equal(JSON.parse(chunked.body).error.code, 'payload_too_large');
    const small = JSON.stringify({ type: 'chunked-ok' });
    const fine = await post({ 'Transfer-Encoding': 'chunked' }, [small.slice(0, 5), small.slice(5)]);
    assert.equal(fine.status, 201, 'a small chunked body is read whole');
  });

  it('keeps an idle connection open longer than the SDK polls while idle', async () => {
    const header = await new Promise<string | undefined>((resolve, reject) => {
      request(`${server.url}/api/health`, (res) => {
        res.resume();
        resolve(String(res.headers['keep-alive']));
      })
        .on('error', reject)
        .end();
    });
    assert.equal(header, `timeout=${KEEP_ALIVE_MS / 1000}`);
    assert.ok(KEEP_ALIVE_MS > 15_000, 'longer than the idle polling period');
  });

  it('forgets a subscriber when its client disconnects', async () => {
    const hub = server.tracker.engine.hub;
    await eventually(
      () => server.tracker.streams.connections.size === 0 || null,
      3000,
      'earlier streams to close',
    );
    const before = hub.subscriberCount('zoe');
    const clients = await Promise.all(Array.from({ length: 20 }, () => stream(tokenFor('zoe'))));
    await eventually(() => hub.subscriberCount('zoe') === before + 20, 3000, 'subscribers');
    for (const client of clients) client.close();
    await eventually(() => hub.subscriberCount('zoe') === before, 3000, 'subscribers to be released');
    await eventually(() => server.tracker.streams.connections.size === 0, 3000, 'connections to be released');
  });
});

describe('the two ways a stream is written', () => {
  it('writes straight into node’s response under startServer, with the app’s CORS headers', async () => {
    const server = await startServer({
      port: 0,
      db: ':memory:',
      secret: SECRET,
      corsOrigins: ['https://app.example'],
      onError: () => {},
    });
    const registry = server.tracker.streams;
    const openNode = registry.openNode.bind(registry);
    let nodeStreams = 0;
    registry.openNode = (...args) => {
      nodeStreams++;
      openNode(...args);
    };
    const controller = new AbortController();
    try {
      const response = await fetch(`${server.url}/api/jobs/stream`, {
        headers: { Authorization: `Bearer ${tokenFor('carol')}`, Origin: 'https://app.example' },
        signal: controller.signal,
      });
      assert.equal(response.status, 200);
      assert.equal(response.headers.get('access-control-allow-origin'), 'https://app.example');
      assert.equal(response.headers.get('x-accel-buffering'), 'no');
      assert.match(response.headers.get('content-type') ?? '', /^text\/event-stream/);
      const reader = new SseReader(response);
      await reader.until(() => reader.ready.length === 1);
      assert.deepEqual(
        reader.events.map((event) => event.event),
        ['snapshot'],
      );
      assert.equal(nodeStreams, 1);
      const denied = await fetch(`${server.url}/api/jobs/stream`, {
        headers: { Origin: 'https://app.example' },
      });
      assert.equal(denied.status, 401, 'a refused stream is an ordinary JSON answer');
      assert.equal((await readBody(denied)).error.code, 'unauthorized');
      controller.abort();
      await eventually(() => registry.connections.size === 0, 3000, 'the stream to close with its client');
    } finally {
      controller.abort();
      await server.close();
    }
  });

  it('falls back to a web stream where the app is served some other way (app.request)', async () => {
    const tracker = await openTestTracker();
    const controller = new AbortController();
    const response = await tracker.app.request('/api/jobs/stream', {
      headers: { Authorization: `Bearer ${tokenFor('dave')}` },
      signal: controller.signal,
    });
    assert.equal(response.status, 200);
    const reader = new SseReader(response);
    await reader.until(() => reader.ready.length === 1);
    assert.deepEqual(
      reader.events.map((event) => event.event),
      ['snapshot'],
    );
    assert.equal(tracker.streams.connections.size, 1);
    controller.abort();
    await eventually(() => tracker.streams.connections.size === 0, 3000, 'the web stream to close');
    await tracker.close();
  });
});
