import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Job, JobListResponse, JobProgressDelta } from '@jobtracker/sdk/wire';
import {
  eventually,
  openTestDatabase,
  readBody,
  SECRET,
  SseReader,
  TEST_DIALECT,
  tokenFor,
  WORKER_KEY,
} from '@jobtracker/test-support/server';
import { type RunningServer, startServer } from '../app/server.js';

const dir = mkdtempSync(join(tmpdir(), 'jobtracker-deltas-'));
const DELTA_KEYS = ['id', 'version', 'progress', 'message', 'updatedAt'];

/**
 * What a client does with the changes it is sent: a whole job replaces its copy; a delta applies only on
 * top of the version it names (`from`, on the stream `version - 1`), a stale one is ignored, and any
 * other is answered by fetching the job.
 */
class ClientView {
  readonly jobs = new Map<string, Job>();
  fetches = 0;
  constructor(private readonly fetchJob: (id: string) => Promise<Job>) {}

  take(job: Job) {
    const mine = this.jobs.get(job.id);
    if (!mine || mine.version < job.version) this.jobs.set(job.id, job);
  }

  async apply(delta: JobProgressDelta) {
    const mine = this.jobs.get(delta.id);
    if (mine && mine.version >= delta.version) return;
    const from = delta.from ?? delta.version - 1;
    if (mine && mine.version === from) {
      const { id, version, progress, message, updatedAt } = delta;
      this.jobs.set(id, { ...mine, id, version, progress, message, updatedAt });
      return;
    }
    this.fetches++;
    this.take(await this.fetchJob(delta.id));
  }

  async applyPoll(body: JobListResponse) {
    for (const job of body.jobs) this.take(job);
    for (const delta of body.progress ?? []) await this.apply(delta);
  }
}

describe(`progress deltas on the wire (${TEST_DIALECT})`, () => {
  let server: RunningServer;
  let database: Awaited<ReturnType<typeof openTestDatabase>>;
  const open: AbortController[] = [];

  before(async () => {
    database = await openTestDatabase(`file:${join(dir, 'deltas.db')}`);
    server = await startServer({
      port: 0,
      db: database.db,
      secret: SECRET,
      workerKey: WORKER_KEY,
      heartbeatMs: 60_000,
      onError: () => {},
      // Flushed by the tests, when they say.
      engine: { progressFlushMs: 60_000 },
    });
  });
  after(async () => {
    for (const controller of open) controller.abort();
    await server.close();
    await database.drop();
    rmSync(dir, { recursive: true, force: true });
  });

  const api = async (path: string, body?: unknown, token = tokenFor('alice'), worker = false) => {
    const response = await fetch(`${server.url}/api${path}`, {
      method: body === undefined ? 'GET' : 'POST',
      headers: {
        Authorization: `Bearer ${worker ? WORKER_KEY : token}`,
        ...(body === undefined ? {} : { 'Content-Type': 'application/json' }),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    return { status: response.status, headers: response.headers, json: await readBody(response) };
  };

  /** Creates a job of a type of its own for `owner` and claims it: running, at version 2. */
  async function startJob(owner: string, type: string) {
    const created = await api('/jobs', { type }, tokenFor(owner));
    assert.equal(created.status, 201);
    const claimed = await api('/worker/claim', { types: [type], workerId: 'w' }, undefined, true);
    assert.equal(claimed.status, 200);
    return { id: claimed.json.job.id as string, leaseToken: claimed.json.leaseToken as string };
  }
  const report = async (job: { id: string; leaseToken: string }, progress: number, message?: string) => {
    const answer = await api(
      `/worker/jobs/${job.id}/progress`,
      { leaseToken: job.leaseToken, progress, message },
      undefined,
      true,
    );
    assert.equal(answer.status, 200);
    return answer.json.job as Job;
  };
  const getJob = async (owner: string, id: string) =>
    (await api(`/jobs/${id}`, undefined, tokenFor(owner))).json.job as Job;
  const poll = async (owner: string, since: string, query = '') =>
    (await api(`/jobs?since=${since}${query}`, undefined, tokenFor(owner))).json as JobListResponse;

  /** A stream of `owner`'s jobs, its bytes kept frame by frame. */
  async function stream(owner: string, headers: Record<string, string> = {}) {
    const controller = new AbortController();
    open.push(controller);
    const response = await fetch(`${server.url}/api/jobs/stream`, {
      headers: { Authorization: `Bearer ${tokenFor(owner)}`, ...headers },
      signal: controller.signal,
    });
    assert.equal(response.status, 200);
    const [forReader, forBytes] = (response.body as ReadableStream<Uint8Array>).tee();
    const reader = new SseReader(new Response(forReader));
    const frames: Buffer[] = [];
    void (async () => {
      let pending = Buffer.alloc(0);
      try {
        for await (const chunk of forBytes) {
          pending = Buffer.concat([pending, chunk]);
          for (let end = pending.indexOf('\n\n'); end >= 0; end = pending.indexOf('\n\n')) {
            frames.push(pending.subarray(0, end + 2));
            pending = pending.subarray(end + 2);
          }
        }
      } catch {
        // aborted
      }
    })();
    const frameOf = (name: string, id: string) =>
      frames.find((frame) => {
        const text = frame.toString('utf8');
        return text.includes(`\nevent: ${name}\n`) && text.includes(`"id":"${id}"`);
      });
    return { reader, frames, frameOf, close: () => controller.abort() };
  }

  it('sends a progress report as a `progress` event of a few fields, under half the whole job', async (t) => {
    const { reader, frameOf, close } = await stream('pat');
    await reader.until(() => reader.ready.length === 1);
    const job = await startJob('pat', 'delta.shape');
    const reported = await report(job, 42.5, 'Step 3 of 8');
    await reader.until(() => reader.events.some((event) => event.event === 'progress'));
    const event = reader.events.find((e) => e.event === 'progress');
    const data = JSON.parse(event?.data ?? '{}');
    assert.deepEqual(Object.keys(data), DELTA_KEYS, 'only what a progress report changes, no `from`');
    assert.deepEqual(data, {
      id: job.id,
      version: reported.version,
      progress: 42.5,
      message: 'Step 3 of 8',
      updatedAt: reported.updatedAt,
    });
    const previous = reader.events.at(-2);
    assert.ok(
      BigInt(event?.id ?? '0') > BigInt(previous?.id ?? '0'),
      '`id:` is the cursor, above the one before',
    );
    assert.deepEqual(reader.jobs().at(-1), await getJob('pat', job.id), 'applied to the job before it');

    const delta = await eventually(() => frameOf('progress', job.id), 2000, 'the progress frame');
    const whole = await eventually(() => frameOf('job', job.id), 2000, 'the claim’s job frame');
    t.diagnostic(`progress event ${delta.length} B on the wire; the whole job ${whole.length} B`);
    assert.ok(delta.length <= 180, `a progress event is ${delta.length} B`);
    assert.ok(delta.length * 2 < whole.length, `${delta.length} B against ${whole.length} B`);
    close();
  });

  it('sends every other change as the whole job', async () => {
    const { reader, close } = await stream('quinn');
    await reader.until(() => reader.ready.length === 1);
    const job = await startJob('quinn', 'delta.status');
    await report(job, 10);
    await api(
      `/worker/jobs/${job.id}/complete`,
      { leaseToken: job.leaseToken, result: { ok: 1 } },
      undefined,
      true,
    );
    await reader.until(() => reader.jobs().some((j) => j.status === 'completed'));
    assert.deepEqual(
      reader.events.map((event) => [event.event, JSON.parse(event.data).status ?? '(delta)']),
      [
        ['snapshot', '(delta)'],
        ['job', 'pending'],
        ['job', 'running'],
        ['progress', '(delta)'],
        ['job', 'completed'],
      ],
    );
    const completed = JSON.parse(reader.events.at(-1)?.data ?? '{}');
    assert.deepEqual(completed, await getJob('quinn', job.id), 'the whole job, result included');
    assert.deepEqual(reader.deltaGaps(), []);
    close();
  });

  it('resumes after Last-Event-ID to the jobs’ current state, also from a cursor the log coalesced away', async () => {
    const first = await stream('rae');
    await first.reader.until(() => first.reader.ready.length === 1);
    const job = await startJob('rae', 'delta.resume');
    const done = await startJob('rae', 'delta.resume.done');
    for (const value of [10, 20, 30]) await report(job, value);
    await first.reader.until(() => first.reader.jobs().some((j) => j.progress === 30));
    // The cursor of the report of 20, which the next flush folds into the one of 30.
    const at20 = first.reader.events.find(
      (e) => e.event === 'progress' && JSON.parse(e.data).progress === 20,
    );
    const cursor = at20?.id ?? '';
    const seen = first.reader.jobs();
    first.close();
    await server.tracker.engine.flush();

    for (const value of [40, 50]) await report(job, value, `at ${value}`);
    await server.tracker.engine.flush();
    await report(job, 60);
    await api(
      `/worker/jobs/${done.id}/fail`,
      { leaseToken: done.leaseToken, error: { code: 'x', message: 'No.' } },
      undefined,
      true,
    );

    const view = new ClientView((id) => getJob('rae', id));
    const upTo = seen.findIndex((j) => j.id === job.id && j.progress === 20);
    for (const state of seen.slice(0, upTo + 1)) view.take(state as unknown as Job);
    const second = await stream('rae', { 'Last-Event-ID': cursor });
    await second.reader.until(() => second.reader.ready.length === 1);
    assert.ok(
      second.reader.events.every(
        (e) => (e.event === 'job' || e.event === 'progress') && BigInt(e.id ?? '0') > BigInt(cursor),
      ),
      'a replay after the cursor, no snapshot',
    );
    for (const event of second.reader.events) {
      const data = JSON.parse(event.data);
      if (event.event === 'job') view.take(data);
      else await view.apply(data);
    }
    assert.deepEqual(view.jobs.get(job.id), await getJob('rae', job.id));
    assert.deepEqual(view.jobs.get(done.id), await getJob('rae', done.id));
    assert.equal(view.fetches, 0, 'nothing had to be fetched');
    second.close();
  });

  it('polls progress-only changes as one delta from the version before them', async () => {
    const job = await startJob('sam', 'delta.poll');
    const since = (await poll('sam', '0')).cursor;
    const started = await getJob('sam', job.id);
    const reports = [];
    for (const value of [5, 15, 25]) reports.push(await report(job, value, `at ${value}`));
    const last = reports.at(-1) as Job;
    const expected = {
      id: job.id,
      from: started.version,
      version: last.version,
      progress: 25,
      message: 'at 25',
      updatedAt: last.updatedAt,
    };
    const before = await poll('sam', since);
    assert.deepEqual(before, { jobs: [], progress: [expected], cursor: before.cursor });
    await server.tracker.engine.flush();
    const afterFlush = await poll('sam', since);
    assert.deepEqual(afterFlush.progress, [expected], 'the same once the log holds one row for them');
    assert.deepEqual(Object.keys(afterFlush.progress?.[0] ?? {}), ['id', 'from', ...DELTA_KEYS.slice(1)]);
    assert.deepEqual(afterFlush.jobs, []);

    const view = new ClientView((id) => getJob('sam', id));
    view.take(started);
    await view.applyPoll(afterFlush);
    assert.deepEqual(view.jobs.get(job.id), await getJob('sam', job.id));
    assert.equal(view.fetches, 0);
  });

  it('polls a job whole when anything but progress changed after the cursor', async () => {
    const job = await startJob('tess', 'delta.mixed');
    const since = (await poll('tess', '0')).cursor;
    await report(job, 10);
    await report(job, 20);
    await api(
      `/worker/jobs/${job.id}/complete`,
      { leaseToken: job.leaseToken, result: null },
      undefined,
      true,
    );
    const created = await api('/jobs', { type: 'delta.mixed.new' }, tokenFor('tess'));
    const mixed = await poll('tess', since);
    assert.deepEqual(
      mixed.jobs.map((j) => [j.id, j.status]),
      [
        [created.json.job.id, 'pending'],
        [job.id, 'completed'],
      ],
      'newest change first, each job once',
    );
    assert.equal(mixed.progress, undefined, 'no `progress` list when there is no delta');
    assert.deepEqual(mixed.jobs[1], await getJob('tess', job.id));
  });

  it('brings a poller whose cursor falls between coalesced reports to the job without a fetch', async () => {
    const job = await startJob('una', 'delta.inside');
    const view = new ClientView((id) => getJob('una', id));
    const start = await poll('una', '0');
    await view.applyPoll(start);
    await report(job, 10);
    const midway = await poll('una', start.cursor);
    await view.applyPoll(midway);
    assert.equal(view.jobs.get(job.id)?.progress, 10);
    await report(job, 20);
    await report(job, 30, 'nearly');
    // One flush for the three reports: the log keeps the last, covering all three.
    await server.tracker.engine.flush();
    await view.applyPoll(await poll('una', midway.cursor));
    assert.deepEqual(view.jobs.get(job.id), await getJob('una', job.id));
    assert.equal(view.fetches, 0, 'answered whole (or as a delta it can apply), never a delta it cannot');
  });

  it('filters deltas by type and scope, and never shows another user’s', async () => {
    const mine = await startJob('uma', 'delta.filter.a');
    const theirs = await startJob('vic', 'delta.filter.a');
    const hidden = await startJob('uma', 'delta.filter.b');
    const since = (await poll('uma', '0')).cursor;
    await report(mine, 30);
    await report(theirs, 30);
    await report(hidden, 30);
    const filtered = await poll('uma', since, '&type=delta.filter.a');
    assert.deepEqual(
      filtered.progress?.map((delta) => delta.id),
      [mine.id],
    );
    const all = await poll('uma', since);
    assert.deepEqual(new Set(all.progress?.map((delta) => delta.id)), new Set([mine.id, hidden.id]));
  });
});
