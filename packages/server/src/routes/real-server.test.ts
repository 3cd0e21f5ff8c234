import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import {
  caller,
  eventually,
  openTestDatabase,
  readBody,
  SECRET,
  tokenFor,
  WORKER_KEY,
} from '@jobtracker/test-support/server';
import { type RunningServer, startServer } from '../app/server.js';
import { signToken } from '../auth/jwt.js';

const dir = mkdtempSync(join(tmpdir(), 'jobtracker-real-'));

/** Log events older than this are dropped when the engine prunes (which these tests call themselves). */
const EVENT_RETENTION_MS = 50;

/** No stack frame, source path or internal module name in an error answer. */
function assertNoLeak(text: string, what: string) {
  assert.doesNotMatch(text, /\bat \S+ \(|\bat .*:\d+:\d+/, `${what}: no stack frame`);
  assert.doesNotMatch(text, /[\\/][\w.-]+\.(?:ts|js|mjs|cjs)\b/, `${what}: no file path`);
  assert.doesNotMatch(text, /node_modules|\/work\/|\/tmp\/|jobtracker-real-/, `${what}: no local path`);
}

describe('job API over a real HTTP server on a file database', () => {
  let server: RunningServer;
  let call: ReturnType<typeof caller>;
  let database: Awaited<ReturnType<typeof openTestDatabase>>;

  before(async () => {
    database = await openTestDatabase(`file:${join(dir, 'real.db')}`);
    server = await startServer({
      port: 0,
      hostname: '127.0.0.1',
      db: database.db,
      secret: SECRET,
      workerKey: WORKER_KEY,
      onError: () => {},
      engine: { eventRetentionMs: EVENT_RETENTION_MS },
    });
    call = caller({ request: (path, init) => fetch(`${server.url}${path}`, init) });
  });
  after(async () => {
    await server.close();
    await database.drop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('creates one job for 50 concurrent identical requests and answers the others with it', async () => {
    const token = tokenFor('dedupe-user');
    const body = { type: 'real.export', scope: 'analysis-7', title: 'Export' };
    const responses = await Promise.all(Array.from({ length: 50 }, () => call('/api/jobs', { body, token })));
    const created = responses.filter((r) => r.status === 201);
    const duplicates = responses.filter((r) => r.status === 200);
    assert.equal(created.length, 1, `statuses: ${responses.map((r) => r.status)}`);
    assert.equal(duplicates.length, 49);
    assert.equal(created[0]?.json.created, true);
    for (const duplicate of duplicates) {
      assert.deepEqual([duplicate.json.created, duplicate.json.reason], [false, 'active_duplicate']);
    }
    const id = created[0]?.json.job.id;
    assert.deepEqual(new Set(responses.map((r) => r.json.job.id)), new Set([id]));

    const active = await call('/api/jobs?status=active&type=real.export&scope=analysis-7', { token });
    assert.equal(active.status, 200);
    assert.deepEqual(
      active.json.jobs.map((job: { id: string }) => job.id),
      [id],
      'the database holds exactly one active job',
    );
  });

  it('creates one job for 50 concurrent requests with one Idempotency-Key, and refuses the key with another body', async () => {
    const token = tokenFor('idempotent-user');
    // dedupe: false, so only the key keeps the 50 requests to one job.
    const body = { type: 'real.report', scope: 'q3', dedupe: false };
    const headers = { 'Idempotency-Key': 'order-4711' };
    const responses = await Promise.all(
      Array.from({ length: 50 }, () => call('/api/jobs', { body, token, headers })),
    );
    assert.equal(responses.filter((r) => r.status === 201).length, 1);
    const replays = responses.filter((r) => r.status === 200);
    assert.equal(replays.length, 49);
    assert.ok(
      replays.every((r) => r.json.created === false && r.json.reason === 'idempotency_key'),
      "every replay answers with the key's job",
    );
    const ids = new Set(responses.map((r) => r.json.job.id));
    assert.equal(ids.size, 1);

    const reused = await call('/api/jobs', { body: { ...body, scope: 'q4' }, token, headers });
    assert.equal(reused.status, 422);
    assert.equal(reused.json.error.code, 'idempotency_key_reused');
    assert.match(reused.headers.get('content-type') ?? '', /^application\/json/);

    const all = await call('/api/jobs?type=real.report', { token });
    assert.deepEqual(
      all.json.jobs.map((job: { id: string }) => job.id),
      [...ids],
      'neither the replays nor the refused reuse created a job',
    );
  });

  it('answers an unchanged poll with an empty 304, wakes only for the caller’s own changes', async () => {
    const token = tokenFor('poller');
    const other = tokenFor('poller-neighbour');
    const first = await call('/api/jobs', { body: { type: 'real.poll', scope: 'a' }, token });
    const second = await call('/api/jobs', { body: { type: 'real.poll', scope: 'b' }, token });
    const { json: listed } = await call('/api/jobs', { token });
    const cursor: string = listed.cursor;

    const poll = (etag?: string) =>
      fetch(`${server.url}/api/jobs?since=${cursor}`, {
        headers: { Authorization: `Bearer ${token}`, ...(etag ? { 'If-None-Match': etag } : {}) },
      });
    const quiet = await poll();
    assert.equal(quiet.status, 200);
    const etag = quiet.headers.get('etag') ?? '';
    assert.match(etag, /^"[^"]+"$/);
    assert.deepEqual(await quiet.json(), { jobs: [], cursor });

    const unchanged = await poll(etag);
    assert.equal(unchanged.status, 304);
    assert.equal(await unchanged.text(), '', 'a 304 has no body');
    assert.equal(unchanged.headers.get('etag'), etag);

    const neighbours = await call('/api/jobs', { body: { type: 'real.poll' }, token: other });
    assert.equal(neighbours.status, 201);
    await call(`/api/jobs/${neighbours.json.job.id}/cancel`, { method: 'POST', token: other });
    const stillUnchanged = await poll(etag);
    assert.equal(stillUnchanged.status, 304, 'another user’s changes do not wake this poll');
    assert.equal(await stillUnchanged.text(), '');

    const cancelled = await call(`/api/jobs/${second.json.job.id}/cancel`, { method: 'POST', token });
    assert.equal(cancelled.status, 200);
    const changed = await poll(etag);
    assert.equal(changed.status, 200);
    assert.notEqual(changed.headers.get('etag'), etag);
    const body = await readBody(changed);
    assert.deepEqual(
      body.jobs.map((job: { id: string; status: string }) => [job.id, job.status]),
      [[second.json.job.id, 'cancelled']],
      'only the changed job, not the untouched one',
    );
    assert.ok(BigInt(body.cursor) > BigInt(cursor), 'a newer cursor');
    assert.equal(body.reset, undefined);
    assert.ok(first.json.job.id, 'the untouched job exists');
  });

  it('answers a poll from a cursor older than the log keeps with reset and a snapshot', async () => {
    const token = tokenFor('late-poller');
    const { json: listed } = await call('/api/jobs', { token });
    const cursor: string = listed.cursor;
    const created = await call('/api/jobs', { body: { type: 'real.reset', title: 'Kept' }, token });
    assert.equal(created.status, 201);

    const answer = await eventually(
      async () => {
        // The log keeps EVENT_RETENTION_MS: once the creation event is older, pruning drops it.
        await server.tracker.engine.prune();
        const response = await call(`/api/jobs?since=${cursor}`, { token });
        return response.json.reset === true ? response : null;
      },
      5000,
      'a reset once the log no longer reaches the cursor',
    );
    assert.equal(answer.status, 200);
    assert.deepEqual(Object.keys(answer.json).sort(), ['cursor', 'jobs', 'reset']);
    assert.deepEqual(
      answer.json.jobs.map((job: { id: string; title: string }) => [job.id, job.title]),
      [[created.json.job.id, 'Kept']],
      'the snapshot holds the caller’s jobs',
    );
    assert.ok(BigInt(answer.json.cursor) > BigInt(cursor), 'the cursor moves on');
    const resumed = await call(`/api/jobs?since=${answer.json.cursor}`, { token });
    assert.deepEqual([resumed.status, resumed.json.jobs, resumed.json.reset], [200, [], undefined]);
  });

  it('answers bad requests with a clean JSON 4xx error, without a stack or a path', async () => {
    const token = tokenFor('careless');
    const wrongSecret = signToken({ sub: 'careless' }, 'another-secret-with-enough-entropy-42');
    const expired = tokenFor('careless', -60);
    const huge = JSON.stringify({ type: 'real.big', input: { blob: 'x'.repeat(300_000) } });
    const cases: [string, Parameters<typeof call>[0], Parameters<typeof call>[1], number, string][] = [
      ['malformed JSON', '/api/jobs', { body: '{"type": "real.x",', token }, 400, 'invalid_json'],
      ['a number for type', '/api/jobs', { body: { type: 42 }, token }, 422, 'invalid_request'],
      ['an unknown route', '/api/nope', { token }, 404, 'not_found'],
      ['an unknown job id', '/api/jobs/01m8k0x60974smd8gnmwwmw588', { token }, 404, 'not_found'],
      ['no token', '/api/jobs', {}, 401, 'unauthorized'],
      ['a garbage token', '/api/jobs', { token: 'garbage' }, 401, 'invalid_token'],
      ['a token signed with another secret', '/api/jobs', { token: wrongSecret }, 401, 'invalid_token'],
      ['an expired token', '/api/jobs', { token: expired }, 401, 'token_expired'],
      ['a body over the limit', '/api/jobs', { body: huge, token }, 413, 'payload_too_large'],
    ];
    for (const [what, path, init, status, code] of cases) {
      const response = await call(path, init);
      assert.equal(response.status, status, `${what}: ${JSON.stringify(response.json)}`);
      assert.match(response.headers.get('content-type') ?? '', /^application\/json/, what);
      assert.deepEqual(Object.keys(response.json), ['error'], what);
      assert.equal(response.json.error.code, code, what);
      assert.equal(typeof response.json.error.message, 'string', what);
      assert.ok(response.json.error.message.length > 0, what);
      assertNoLeak(JSON.stringify(response.json), what);
      if (status === 401) assert.equal(response.headers.get('www-authenticate'), 'Bearer', what);
    }
  });

  it('refuses a chunked body over the limit with 413 while reading it', async () => {
    const chunk = new TextEncoder().encode(`"${'x'.repeat(64 * 1024)}`);
    const chunks = 1000; // 64 MB: far more than the limit, and more than the sockets buffer.
    let sent = 0;
    const body = new ReadableStream<Uint8Array>({
      pull(controller) {
        if (sent++ < chunks) controller.enqueue(chunk);
        else controller.close();
      },
    });
    const response = await fetch(`${server.url}/api/jobs`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${tokenFor('streamer')}`, 'Content-Type': 'application/json' },
      body,
      duplex: 'half',
    } as RequestInit & { duplex: 'half' });
    assert.equal(response.status, 413);
    const text = await response.text();
    assert.equal(JSON.parse(text).error.code, 'payload_too_large');
    assertNoLeak(text, 'chunked body');
    assert.ok(sent < chunks / 2, `the server answered without reading it all (${sent} chunks sent)`);
  });
});
