import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import {
  caller,
  delay,
  openTestDatabase,
  openTestTracker,
  readBody,
  SECRET,
  SseReader,
  tokenFor,
  WORKER_KEY,
} from '@jobtracker/test-support/server';
import { type RunningServer, startServer } from '../app/server.js';
import type { JobTracker } from '../app/tracker.js';

describe('POST /api/jobs/:id/dismiss', () => {
  let tracker: JobTracker;
  let call: ReturnType<typeof caller>;
  const alice = tokenFor('alice');
  const bob = tokenFor('bob');
  before(async () => {
    tracker = await openTestTracker({ engine: { progressFlushMs: 60_000 } });
    call = caller(tracker.app);
  });
  after(() => tracker.close());

  const create = async (type: string, token = alice) => {
    const created = await call('/api/jobs', { body: { type, dedupe: false }, token });
    assert.equal(created.status, 201);
    return created.json.job as { id: string; version: number; dismissedAt: string | null };
  };
  const worker = (path: string, body: unknown) => call(`/api/worker${path}`, { body, token: WORKER_KEY });
  async function claim(type: string) {
    const claimed = await worker('/claim', { types: [type], workerId: 'w' });
    assert.equal(claimed.status, 200);
    return claimed.json as { job: { id: string }; leaseToken: string };
  }
  const dismiss = (id: string, body?: unknown, token = alice) =>
    call(`/api/jobs/${id}/dismiss`, { method: 'POST', body, token });

  it('hides a job (no body), raises its version once, and answers a repeat unchanged', async () => {
    const job = await create('dismiss.plain');
    assert.equal(job.dismissedAt, null, 'a new job is shown');
    const first = await dismiss(job.id);
    assert.equal(first.status, 200);
    assert.equal(first.json.job.status, 'pending', 'the status does not change');
    assert.equal(first.json.job.version, job.version + 1);
    assert.ok(!Number.isNaN(Date.parse(first.json.job.dismissedAt)), 'dismissedAt is an ISO time');
    const again = await dismiss(job.id, { dismissed: true });
    assert.equal(again.status, 200);
    assert.deepEqual(again.json.job, first.json.job, 'a repeat answers the job unchanged');
    const read = await call(`/api/jobs/${job.id}`, { token: alice });
    assert.deepEqual(read.json.job, first.json.job);
  });

  it('brings a job back with { dismissed: false }, idempotently', async () => {
    const job = await create('dismiss.restore');
    await dismiss(job.id);
    const back = await dismiss(job.id, { dismissed: false });
    assert.equal(back.status, 200);
    assert.deepEqual([back.json.job.dismissedAt, back.json.job.version], [null, job.version + 2]);
    const again = await dismiss(job.id, { dismissed: false });
    assert.deepEqual(again.json.job, back.json.job);
    const never = await create('dismiss.never');
    const shown = await dismiss(never.id, { dismissed: false });
    assert.equal(shown.json.job.version, never.version, 'bringing back a shown job changes nothing');
  });

  it('lets a running job run on, and keeps progress reported before and after it', async () => {
    await create('dismiss.running');
    const { job, leaseToken } = await claim('dismiss.running');
    assert.equal((await worker(`/jobs/${job.id}/progress`, { leaseToken, progress: 10 })).status, 200);
    const dismissed = await dismiss(job.id);
    assert.deepEqual(
      [dismissed.json.job.status, dismissed.json.job.progress],
      ['running', 10],
      'unflushed progress is kept',
    );
    const later = await worker(`/jobs/${job.id}/progress`, { leaseToken, progress: 40 });
    assert.equal(later.status, 200, 'the worker is not fenced off by a dismissal');
    assert.notEqual(later.json.job.dismissedAt, null, 'progress keeps the dismissal');
    const done = await worker(`/jobs/${job.id}/complete`, { leaseToken, result: null });
    assert.equal(done.json.job.status, 'completed');
    assert.equal(done.json.job.dismissedAt, dismissed.json.job.dismissedAt, 'completion keeps it too');
    await tracker.engine.flush();
    const stored = await tracker.engine.store.getJob(job.id);
    assert.equal(stored?.dismissedAt, Date.parse(dismissed.json.job.dismissedAt), 'it is committed');
  });

  it('never changes the status of a finished job', async () => {
    await create('dismiss.failed');
    const { job, leaseToken } = await claim('dismiss.failed');
    const failed = await worker(`/jobs/${job.id}/fail`, { leaseToken, error: { message: 'Broke' } });
    const dismissed = await dismiss(job.id);
    assert.equal(dismissed.status, 200);
    assert.deepEqual(
      { ...dismissed.json.job, dismissedAt: null, version: 0, updatedAt: null },
      { ...failed.json.job, version: 0, updatedAt: null },
      'only dismissedAt, version and updatedAt change',
    );
    const retried = await call(`/api/jobs/${job.id}/retry`, { method: 'POST', token: alice });
    assert.equal(retried.status, 201, 'a dismissed failure can still be retried');
    assert.equal(retried.json.job.dismissedAt, null, 'and its retry is shown');
  });

  it("answers 404 for another user's job or an unknown id, and leaves the job as it was", async () => {
    const job = await create('dismiss.private');
    for (const body of [undefined, { dismissed: true }, { dismissed: false }]) {
      const response = await dismiss(job.id, body, bob);
      assert.deepEqual([response.status, response.json.error.code], [404, 'not_found']);
    }
    const unknown = await dismiss('j_unknown00000000000000');
    assert.deepEqual([unknown.status, unknown.json.error.code], [404, 'not_found']);
    const read = await call(`/api/jobs/${job.id}`, { token: alice });
    assert.deepEqual([read.json.job.dismissedAt, read.json.job.version], [null, job.version]);
    const unauthenticated = await dismiss(job.id, undefined, '');
    assert.equal(unauthenticated.status, 401);
  });

  it('answers bad bodies with a 4xx JSON error, never a 500', async () => {
    const job = await create('dismiss.bad');
    const cases: [init: Parameters<typeof call>[1], status: number, code: string][] = [
      [{ method: 'POST', body: '{not json', token: alice }, 400, 'invalid_json'],
      [{ method: 'POST', body: { dismissed: 'yes' }, token: alice }, 422, 'invalid_request'],
      [{ method: 'POST', body: { dismissed: true, extra: 1 }, token: alice }, 422, 'invalid_request'],
      [{ method: 'POST', body: [true], token: alice }, 422, 'invalid_request'],
      [
        { method: 'POST', body: 'dismissed', token: alice, headers: { 'Content-Type': 'text/plain' } },
        415,
        'unsupported_media_type',
      ],
    ];
    for (const [init, status, code] of cases) {
      const response = await call(`/api/jobs/${job.id}/dismiss`, init);
      assert.deepEqual([response.status, response.json?.error?.code], [status, code], JSON.stringify(init));
    }
    const read = await call(`/api/jobs/${job.id}`, { token: alice });
    assert.equal(read.json.job.dismissedAt, null, 'a refused request changes nothing');
  });

  it('is in the OpenAPI document with an optional body', async () => {
    const doc = (await call('/api/openapi.json')).json;
    const op = doc.paths['/api/jobs/{id}/dismiss']?.post;
    assert.ok(op, 'the route is documented');
    assert.equal(op.requestBody.required, false);
    assert.ok(op.responses['200'] && op.responses['404'] && op.responses['422'], '200, 404 and 422');
    assert.ok(doc.components.schemas.Job.required.includes('dismissedAt'), 'every job has dismissedAt');
  });
});

const dir = mkdtempSync(join(tmpdir(), 'jobtracker-dismiss-'));

describe('a dismissal on the stream', () => {
  let server: RunningServer;
  let database: Awaited<ReturnType<typeof openTestDatabase>>;
  const alice = tokenFor('alice');
  const bob = tokenFor('bob');
  const open: AbortController[] = [];

  before(async () => {
    database = await openTestDatabase(`file:${join(dir, 'dismiss.db')}`);
    server = await startServer({
      port: 0,
      db: database.db,
      secret: SECRET,
      workerKey: WORKER_KEY,
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

  async function stream(token: string, headers: Record<string, string> = {}) {
    const controller = new AbortController();
    open.push(controller);
    const response = await fetch(`${server.url}/api/jobs/stream`, {
      headers: { Authorization: `Bearer ${token}`, ...headers },
      signal: controller.signal,
    });
    assert.equal(response.status, 200);
    return { reader: new SseReader(response), close: () => controller.abort() };
  }
  const api = async (path: string, body?: unknown, token = alice) => {
    const response = await fetch(`${server.url}/api${path}`, {
      method: body === undefined ? 'GET' : 'POST',
      headers: {
        Authorization: `Bearer ${token}`,
        ...(body === undefined || body === null ? {} : { 'Content-Type': 'application/json' }),
      },
      body: body === undefined || body === null ? undefined : JSON.stringify(body),
    });
    return { status: response.status, json: await readBody(response) };
  };

  it("reaches the owner's streams as a job event, live and in a replay, and never another user's", async () => {
    const a = await stream(alice);
    const b = await stream(bob);
    await a.reader.until(() => a.reader.ready.length === 1);
    await b.reader.until(() => b.reader.ready.length === 1);
    const { json } = await api('/jobs', { type: 'streamed', title: 'alice hides this' });
    const id = json.job.id as string;
    await a.reader.until(() => a.reader.jobs().some((j) => j.id === id));
    const before = a.reader.lastId ?? '';
    const claimed = await api('/worker/claim', { types: ['streamed'], workerId: 'w' }, WORKER_KEY);
    const { leaseToken } = claimed.json;
    await api(`/worker/jobs/${id}/progress`, { leaseToken, progress: 30 }, WORKER_KEY);
    const dismissed = await api(`/jobs/${id}/dismiss`, null);
    assert.equal(dismissed.status, 200);
    await api(`/worker/jobs/${id}/progress`, { leaseToken, progress: 60 }, WORKER_KEY);

    await a.reader.until(() => a.reader.jobs().some((j) => j.id === id && j.progress === 60));
    const dismissal = a.reader.events.find(
      (event) => event.event === 'job' && JSON.parse(event.data).version === dismissed.json.job.version,
    );
    assert.ok(dismissal, 'the dismissal is a job event, not a progress delta');
    assert.equal(JSON.parse(dismissal.data).dismissedAt, dismissed.json.job.dismissedAt);
    const last = a.reader.jobs().findLast((j) => j.id === id);
    assert.equal(last?.dismissedAt, dismissed.json.job.dismissedAt, 'later progress keeps it');
    assert.deepEqual(a.reader.deltaGaps(), []);

    // Resumed after the progress was flushed (coalesced in the log): the dismissal is neither lost nor moved.
    await delay(150);
    const resumed = await stream(alice, { 'Last-Event-ID': before });
    await resumed.reader.until(() => resumed.reader.jobs().some((j) => j.id === id && j.progress === 60));
    const replayed = resumed.reader.jobs().filter((j) => j.id === id);
    assert.deepEqual(
      replayed.map((j) => [j.version, j.progress, j.dismissedAt !== null]),
      a.reader
        .jobs()
        .filter((j) => j.id === id && j.version > 1)
        .map((j) => [j.version, j.progress, j.dismissedAt !== null]),
      'the replay brings the same versions in the same order',
    );

    await delay(100);
    assert.equal(
      b.reader.events.some((event) => event.data.includes(id)),
      false,
      'bob never sees the job or its dismissal',
    );
    for (const reader of [a, b, resumed]) reader.close();
  });

  it('takes a POST with a JSON Content-Type and an empty body as no body (dismiss)', async () => {
    const { json } = await api('/jobs', { type: 'empty-body' });
    const response = await fetch(`${server.url}/api/jobs/${json.job.id}/dismiss`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${alice}`, 'Content-Type': 'application/json' },
    });
    assert.equal(response.status, 200);
    assert.notEqual((await readBody(response)).job.dismissedAt, null);
  });

  it('reaches a poll as the job, not a progress delta', async () => {
    const { json } = await api('/jobs', { type: 'polled' });
    const id = json.job.id as string;
    const list = await api('/jobs?limit=1');
    const cursor = list.json.cursor as string;
    await api(`/jobs/${id}/dismiss`, { dismissed: true });
    const changes = await api(`/jobs?since=${cursor}`);
    assert.deepEqual(
      changes.json.jobs.map((j: { id: string; dismissedAt: string | null }) => [
        j.id,
        j.dismissedAt !== null,
      ]),
      [[id, true]],
    );
    assert.equal(changes.json.progress, undefined);
    const bobs = await api(`/jobs?since=${cursor}`, undefined, bob);
    assert.deepEqual(bobs.json.jobs, [], "another user's poll has nothing of it");
  });
});
