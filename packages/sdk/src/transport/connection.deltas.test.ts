import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { eventually } from '@jobtracker/test-support/tokens';
import {
  type FakeStream,
  fakeJobApi,
  fakeServer,
  isPoll,
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

  it('never builds a job from a delta on a version it does not hold: it drops the cursor at once and starts over from a snapshot', async () => {
    const api = fakeJobApi();
    api.put(wireJob('a', { version: 1 }));
    const connection = run(api.fetch, 'sse');
    await eventually(() => connection.state() === 'live', 3000, 'live');
    // The client never hears of version 2 (its status changed: cancelled and requeued, say).
    api.quietly(wireJob('a', { version: 2, status: 'running', attempt: 2, progress: null }));
    api.progress('a', 10, 'Again');
    const streams = () => api.requests.filter((r) => r.path.endsWith('/jobs/stream'));
    await eventually(() => streams().length === 2, 3000, 'a second stream');
    await eventually(() => connection.jobs().a?.version === 3, 3000, 'the job, from the snapshot');
    await eventually(() => connection.cursor() === api.cursor, 3000, 'the cursor');
    connection.stop();
    assert.equal(streams()[1]?.headers.get('last-event-id'), null, 'from no cursor: a snapshot');
    const dropped = connection.delivered.findIndex((m) => m.cursor === null);
    assert.ok(dropped > 0, 'the cursor was dropped at once');
    const next = connection.delivered.slice(dropped + 1).find((m) => m.cursor !== undefined);
    assert.equal(next?.kind, 'snapshot', 'and came back only with the snapshot');
    assert.deepEqual(connection.jobs().a, api.job('a'), 'exactly the server’s job');
    assert.ok(
      connection.delivered
        .flatMap((message) => message.jobs)
        .every((job) => job.id !== 'a' || job.version < 3 || job.attempt === 2),
      'no job was made from the delta on version 1',
    );
    assert.ok(
      connection.statuses.every((s) => s.state !== 'polling' && s.state !== 'error'),
      `starting over is no failure: ${connection.statuses.map((s) => s.state)}`,
    );
    assert.equal(jobFetches(api.requests).length, 0);
  });

  it('starts over when a delta names a job it does not hold, and takes nothing more from that stream', async () => {
    const streams: FakeStream[] = [];
    const server = fakeServer({
      onStream: (s) => {
        streams.push(s);
        if (streams.length === 1) s.push(readyFrame(10));
        else {
          const snapshot = { jobs: [wireJob('b', { version: 7, progress: 70 })], cursor: '12' };
          s.push(`id: 12\nevent: snapshot\ndata: ${JSON.stringify(snapshot)}\n\n${readyFrame(12)}`);
        }
        return undefined;
      },
    });
    const connection = run(server.fetch, 'sse');
    await eventually(() => connection.state() === 'live', 3000, 'live');
    const updatedAt = wireJob('b').updatedAt;
    streams[0]?.push(
      progressFrame({ id: 'b', version: 6, progress: 60, message: null, updatedAt }, 11) +
        progressFrame({ id: 'b', version: 7, progress: 70, message: null, updatedAt }, 12) +
        jobFrame(wireJob('c'), 13),
    );
    await eventually(() => connection.jobs().b?.version === 7, 3000, 'b, from the snapshot');
    await delay(100);
    connection.stop();
    assert.equal(streams.length, 2, 'one new stream for the deltas of one chunk');
    assert.equal(connection.cursor(), '12');
    assert.equal(
      connection.jobs().c,
      undefined,
      'nothing after the missed delta taken from the stream given up',
    );
    assert.ok(
      connection.delivered.every((m) => m.cursor !== '13'),
      'the stream given up moved no cursor',
    );
  });
});

describe('connection: progress deltas in polls', () => {
  it('applies a coalesced delta on the version it names (from), and asks for everything when it holds another', async () => {
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
      {
        jobs: [wireJob('a', { version: 3 }), wireJob('b', { version: 4, attempt: 2, progress: 40 })],
        cursor: '11',
      },
    ];
    const server = fakeServer({
      onStream: () => undefined,
      poll: () => Response.json(answers.shift() ?? { jobs: [], cursor: '11' }),
    });
    const connection = run(server.fetch, 'poll', { pollActiveMs: 30, pollIdleMs: 30 });
    await eventually(() => connection.jobs().b?.version === 4, 3000, 'b, whole');
    await eventually(() => connection.cursor() === '11', 3000, 'the cursor');
    connection.stop();
    const since = server.requests
      .filter(isPoll)
      .map((r) => new URL(`http://x${r.path}`).searchParams.get('since'));
    assert.deepEqual(
      since.slice(0, 3),
      ['0', '10', '0'],
      'after the delta that did not apply, a poll from no cursor',
    );
    assert.equal(connection.jobs().b?.attempt, 2, 'the server’s job, not one made from the delta');
    assert.deepEqual(
      connection.delivered[1],
      {
        kind: 'jobs',
        jobs: [{ ...wireJob('a'), version: 3, progress: 30, message: 'three', updatedAt }],
        cursor: null,
      },
      'the delta on the version held applied, the cursor dropped',
    );
  });
});
