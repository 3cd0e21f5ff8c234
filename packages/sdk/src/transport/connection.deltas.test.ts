import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { eventually } from '@jobtracker/test-support/tokens';
import {
  type FakeStream,
  fakeJobApi,
  fakeServer,
  jobFrame,
  progressFrame,
  readyFrame,
  run,
  wireJob,
} from '../testing/fake-job-api.js';
import type { Job } from '../wire.js';

const delay = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const jobFetches = (requests: { path: string }[]) =>
  requests.filter(
    (request) => /\/api\/jobs\/[^/?]+$/.test(request.path) && !request.path.endsWith('/stream'),
  );
/** Every job the client was handed, as [version, progress], for one id. */
const seen = (connection: ReturnType<typeof run>, id: string) =>
  connection.delivered.flatMap((message) =>
    message.jobs.filter((job) => job.id === id).map((job) => [job.version, job.progress]),
  );

describe('connection: progress deltas on the stream', () => {
  it('applies a progress event on top of the version before it, keeping the rest of the job, and moves the cursor', async () => {
    const api = fakeJobApi();
    api.put(wireJob('a', { title: 'Report', version: 1 }));
    const connection = run(api.fetch, 'sse');
    await eventually(() => connection.state() === 'live', 3000, 'live');
    api.progress('a', 40, 'Section 4');
    await eventually(() => connection.jobs().a?.version === 2, 3000, 'version 2');
    connection.stop();
    const held = connection.jobs().a as Job;
    assert.deepEqual(
      { ...held },
      {
        ...wireJob('a', { title: 'Report' }),
        version: 2,
        progress: 40,
        message: 'Section 4',
        updatedAt: held.updatedAt,
      },
    );
    assert.notEqual(held.updatedAt, wireJob('a').updatedAt, 'updatedAt comes from the delta');
    assert.equal(connection.cursor(), api.cursor);
    assert.equal(jobFetches(api.requests).length, 0, 'nothing fetched');
  });

  it('ignores a delta for a version it already holds or passed, and fetches nothing', async () => {
    let stream!: FakeStream;
    const server = fakeServer({
      onStream: (s) => {
        stream = s;
        s.push(jobFrame(wireJob('a', { version: 5, progress: 50 }), 10) + readyFrame(10));
        return undefined;
      },
    });
    const connection = run(server.fetch, 'sse');
    await eventually(() => connection.state() === 'live', 3000, 'live');
    const updatedAt = '2030-01-01T00:00:09.000Z';
    stream.push(progressFrame({ id: 'a', version: 4, progress: 40, message: null, updatedAt }, 11));
    stream.push(progressFrame({ id: 'a', version: 5, progress: 45, message: null, updatedAt }, 12));
    await eventually(() => connection.cursor() === '12', 3000, 'both taken');
    await delay(50);
    connection.stop();
    assert.deepEqual(seen(connection, 'a'), [[5, 50]], 'only the whole job');
    assert.equal(connection.jobs().a?.progress, 50);
    assert.equal(jobFetches(server.requests).length, 0);
  });

  it('never builds a job from a delta on a version it does not hold: it fetches the job, and holds the cursor back until it has it', async () => {
    const api = fakeJobApi();
    api.put(wireJob('a', { version: 1 }));
    let release!: () => void;
    const fetched = new Promise<void>((resolve) => {
      release = resolve;
    });
    let fetches = 0;
    const fetch = (async (input, init) => {
      if (/\/jobs\/a$/.test(String(input))) {
        fetches++;
        await fetched;
      }
      return api.fetch(input, init);
    }) as typeof globalThis.fetch;
    const connection = run(fetch, 'sse');
    await eventually(() => connection.state() === 'live', 3000, 'live');
    const before = connection.cursor();
    // The client never hears of version 2 (its status changed: cancelled and requeued, say).
    api.quietly(wireJob('a', { version: 2, status: 'running', attempt: 2, progress: null }));
    api.progress('a', 10, 'Again');
    await eventually(() => fetches === 1, 3000, 'the job is fetched');
    assert.equal(connection.jobs().a?.version, 1, 'still the last version it could trust');
    assert.equal(connection.cursor(), before, 'the cursor stays before the delta it could not apply');
    release();
    await eventually(() => connection.jobs().a?.version === 3, 3000, 'the fetched job');
    await eventually(() => connection.cursor() === api.cursor, 3000, 'the cursor moves on');
    connection.stop();
    assert.deepEqual(connection.jobs().a, api.job('a'), 'exactly the server’s job');
    assert.equal(connection.jobs().a?.attempt, 2);
    assert.ok(
      connection.delivered
        .flatMap((message) => message.jobs)
        .every((job) => job.id !== 'a' || job.version < 3 || job.attempt === 2),
      'no job was made from the delta on version 1',
    );
  });

  it('fetches a job it does not know when a delta names it', async () => {
    let stream!: FakeStream;
    const server = fakeServer({
      onStream: (s) => {
        stream = s;
        s.push(readyFrame(10));
        return undefined;
      },
      job: (id) => Response.json({ job: wireJob(id, { version: 7, progress: 70 }) }),
    });
    const connection = run(server.fetch, 'sse');
    await eventually(() => connection.state() === 'live', 3000, 'live');
    stream.push(
      progressFrame(
        { id: 'b', version: 7, progress: 70, message: null, updatedAt: wireJob('b').updatedAt },
        11,
      ),
    );
    await eventually(() => connection.jobs().b?.version === 7, 3000, 'the fetched job');
    await eventually(() => connection.cursor() === '11', 3000, 'the cursor');
    connection.stop();
    assert.equal(jobFetches(server.requests).length, 1);
    assert.equal(connection.jobs().b?.type, 'report', 'a whole job, not the delta');
  });

  it('fetches a job once while a fetch of it runs, and again when a newer delta came meanwhile', async () => {
    let stream!: FakeStream;
    const answers: (() => void)[] = [];
    let version = 3;
    const server = fakeServer({
      onStream: (s) => {
        stream = s;
        s.push(jobFrame(wireJob('a', { version: 1 }), 10) + readyFrame(10));
        return undefined;
      },
      job: async (id) => {
        const job = wireJob(id, { version, progress: version * 10 });
        await new Promise<void>((resolve) => answers.push(resolve));
        return Response.json({ job });
      },
    });
    const connection = run(server.fetch, 'sse');
    await eventually(() => connection.state() === 'live', 3000, 'live');
    const delta = (v: number, cursor: number) =>
      progressFrame(
        { id: 'a', version: v, progress: v * 10, message: null, updatedAt: wireJob('a').updatedAt },
        cursor,
      );
    stream.push(delta(3, 11));
    await eventually(() => answers.length === 1, 3000, 'one fetch');
    stream.push(delta(4, 12));
    stream.push(delta(5, 13));
    version = 5;
    await delay(50);
    assert.equal(jobFetches(server.requests).length, 1, 'one fetch at a time for a job');
    answers.shift()?.();
    await eventually(() => answers.length === 1, 3000, 'a second fetch: version 3 is behind the deltas');
    answers.shift()?.();
    await eventually(() => connection.jobs().a?.version === 5, 3000, 'version 5');
    await eventually(() => connection.cursor() === '13', 3000, 'the cursor');
    connection.stop();
    assert.equal(jobFetches(server.requests).length, 2);
  });

  it('forgets a job the server no longer has (404)', async () => {
    let stream!: FakeStream;
    const server = fakeServer({
      onStream: (s) => {
        stream = s;
        s.push(jobFrame(wireJob('a', { version: 1 }), 10) + readyFrame(10));
        return undefined;
      },
      job: () => Response.json({ error: { code: 'not_found', message: 'No such job.' } }, { status: 404 }),
    });
    const connection = run(server.fetch, 'sse');
    await eventually(() => connection.state() === 'live', 3000, 'live');
    stream.push(
      progressFrame(
        { id: 'a', version: 3, progress: 30, message: null, updatedAt: wireJob('a').updatedAt },
        11,
      ),
    );
    await eventually(() => !connection.jobs().a, 3000, 'gone');
    await eventually(() => connection.cursor() === '11', 3000, 'the cursor moves on');
    connection.stop();
    assert.equal(jobFetches(server.requests).length, 1, 'asked once');
  });

  it('resyncs from the cursor before the gap when the fetch fails: the replay brings the whole job', async () => {
    const api = fakeJobApi();
    api.put(wireJob('a', { version: 1 }));
    let failFetches = true;
    const fetch = (async (input, init) => {
      if (failFetches && /\/jobs\/a$/.test(String(input))) throw new TypeError('fetch failed');
      return api.fetch(input, init);
    }) as typeof globalThis.fetch;
    const connection = run(fetch, 'sse');
    await eventually(() => connection.state() === 'live', 3000, 'live');
    const before = connection.cursor();
    api.quietly(wireJob('a', { version: 2, attempt: 2 }));
    api.progress('a', 10);
    const streams = () => api.requests.filter((r) => r.path.endsWith('/jobs/stream'));
    await eventually(() => streams().length === 2, 3000, 'a second stream');
    assert.equal(streams()[1]?.headers.get('last-event-id'), before, 'resumed from before the gap');
    await eventually(() => connection.jobs().a?.version === 3, 3000, 'the job, from the replay');
    await eventually(() => connection.cursor() === api.cursor, 3000, 'the cursor');
    failFetches = false;
    connection.stop();
    assert.deepEqual(connection.jobs().a, api.job('a'));
    assert.ok(
      connection.statuses.every((s) => s.state !== 'polling' && s.state !== 'error'),
      `a resync is no failure: ${connection.statuses.map((s) => s.state)}`,
    );
  });
});

describe('connection: progress deltas in polls', () => {
  it('applies a coalesced delta on the version it names (from), and fetches the job when it holds another', async () => {
    const updatedAt = '2030-01-01T00:00:09.000Z';
    const answers = [
      { jobs: [wireJob('a'), wireJob('b')], cursor: '10' },
      {
        jobs: [],
        progress: [
          { id: 'a', from: 1, version: 3, progress: 30, message: 'three', updatedAt },
          { id: 'b', from: 2, version: 4, progress: 40, message: null, updatedAt },
        ],
        cursor: '11',
      },
    ];
    const server = fakeServer({
      onStream: () => undefined,
      poll: () => Response.json(answers.shift() ?? { jobs: [], cursor: '11' }),
      job: (id) => Response.json({ job: wireJob(id, { version: 4, attempt: 2, progress: 40 }) }),
    });
    const connection = run(server.fetch, 'poll', { pollActiveMs: 30, pollIdleMs: 30 });
    await eventually(() => connection.jobs().b?.version === 4, 3000, 'b fetched');
    await eventually(() => connection.cursor() === '11', 3000, 'the cursor');
    connection.stop();
    assert.deepEqual(connection.jobs().a, {
      ...wireJob('a'),
      version: 3,
      progress: 30,
      message: 'three',
      updatedAt,
    });
    assert.equal(connection.jobs().b?.attempt, 2, 'the server’s job, not one made from the delta');
    assert.deepEqual(
      jobFetches(server.requests).map((r) => r.path),
      ['/api/jobs/b'],
      'only the job whose delta did not apply',
    );
  });

  it('asks for a job again on the next poll when fetching it failed', async () => {
    const updatedAt = '2030-01-01T00:00:09.000Z';
    const answers = [
      { jobs: [wireJob('a')], cursor: '10' },
      {
        jobs: [],
        progress: [{ id: 'a', from: 2, version: 3, progress: 30, message: null, updatedAt }],
        cursor: '11',
      },
    ];
    let failing = 2;
    const server = fakeServer({
      onStream: () => undefined,
      poll: () => Response.json(answers.shift() ?? { jobs: [], cursor: '11' }),
      job: (id) =>
        failing-- > 0
          ? Response.json({ error: { code: 'unavailable', message: 'Try later.' } }, { status: 503 })
          : Response.json({ job: wireJob(id, { version: 3, attempt: 2, progress: 30 }) }),
    });
    const connection = run(server.fetch, 'poll', { pollActiveMs: 30, pollIdleMs: 30 });
    await eventually(() => connection.jobs().a?.version === 3, 3000, 'a, fetched at last');
    await eventually(() => connection.cursor() === '11', 3000, 'the cursor');
    connection.stop();
    assert.equal(jobFetches(server.requests).length, 3);
    assert.equal(connection.jobs().a?.attempt, 2);
    let version = 0;
    for (const message of connection.delivered) {
      version = Math.max(version, ...message.jobs.map((job) => job.version));
      if (version < 3 && message.cursor !== undefined)
        assert.equal(message.cursor, '10', 'the cursor stays before the delta until the job is known');
    }
  });
});
