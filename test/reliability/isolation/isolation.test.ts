// Scenario 8 of issue 7: one user never sees, changes or streams another user's jobs.
//
// User B owns jobs in every state whose text carries a marker string. Then thousands of requests with
// the tokens of other users (A, and look-alikes of B's own id) are aimed at B: get, cancel, retry and dismiss on
// B's job ids (and mutated ids), lists with every filter and with B's cursors, streams and replays from
// B's cursors (`Last-Event-ID` and `?since=`), while B's running job reports progress. Every request on a
// B id must answer 404 with the JSON error body; no answer may carry any of B's ids or marker; B's jobs
// must be unchanged afterwards.
//
// Counts: ~1,500 requests by default; `JOBTRACKER_RELIABILITY_FULL=1` runs 12,000.

import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Job } from '@jobtracker/sdk';
import { type RunningServer, startServer } from '@jobtracker/server';
import { eventually } from '@jobtracker/test-support/server';
import { type IsolationClient, isolationClient, pool } from './client.js';
import { probeChecker, roundOfProbes, type Tally } from './probes.js';
import { ATTACKER_TOKENS, ATTACKERS, BOB, BOB_TOKEN, MARK, SECRET, TAG, WORKER_KEY } from './users.js';

const FULL = process.env.JOBTRACKER_RELIABILITY_FULL === '1';
const TARGET_REQUESTS = FULL ? 12_000 : 1_500;
const CONCURRENCY = 20;

const dir = mkdtempSync(join(tmpdir(), 'jobtracker-isolation-'));

describe('isolation: another user’s token never reaches B’s jobs', () => {
  let server: RunningServer;
  let client: IsolationClient;
  const held: AbortController[] = [];

  before(async () => {
    server = await startServer({
      port: 0,
      db: `file:${join(dir, 'isolation.db')}`,
      secret: SECRET,
      workerKey: WORKER_KEY,
      heartbeatMs: 1000,
      onError: () => {},
      engine: { progressFlushMs: 200 },
    });
    client = isolationClient(server.url, held);
  });

  after(async () => {
    for (const controller of held) controller.abort();
    await server.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('answers 404 to every request on B’s jobs and shows none of B’s data anywhere', async (t) => {
    const { json, asWorker, create, claim, holdStream } = client;
    const started = Date.now();

    // ---- B's jobs, in every state, with the marker in every text field ----
    const bobStream = await holdStream(BOB_TOKEN);
    const text = (what: string) => `${MARK} ${what} <b>secret</b>`;
    const running = await create(BOB_TOKEN, {
      type: 'iso.export',
      scope: 'project-1',
      title: text('running title'),
      input: { secret: MARK },
    });
    const runningLease = await claim('iso.export');
    await asWorker(`/jobs/${running.id}/progress`, {
      leaseToken: runningLease.leaseToken,
      progress: 42,
      message: text('running message'),
    });
    const live = await create(BOB_TOKEN, { type: 'iso.live', scope: 'project-2', title: text('live title') });
    const liveLease = await claim('iso.live');
    const completed = await create(BOB_TOKEN, {
      type: 'iso.build',
      scope: 'project-1',
      title: text('completed title'),
    });
    const completedLease = await claim('iso.build');
    await asWorker(`/jobs/${completed.id}/progress`, {
      leaseToken: completedLease.leaseToken,
      progress: 60,
      message: text('completed message'),
    });
    await asWorker(`/jobs/${completed.id}/complete`, {
      leaseToken: completedLease.leaseToken,
      result: { url: `/reports/${MARK}`, summary: text('result summary') },
    });
    const failed = await create(BOB_TOKEN, {
      type: 'iso.sync',
      scope: 'project-2',
      title: text('failed title'),
    });
    const failedLease = await claim('iso.sync');
    await asWorker(`/jobs/${failed.id}/fail`, {
      leaseToken: failedLease.leaseToken,
      error: { message: text('failure message'), code: `code_${MARK}`, retryable: true },
    });
    const cancelled = await create(BOB_TOKEN, {
      type: `iso.bonly.${TAG}`,
      scope: `b-only-${TAG}`,
      title: text('cancelled title'),
    });
    assert.equal((await json('POST', `/api/jobs/${cancelled.id}/cancel`, BOB_TOKEN)).status, 200);
    const retried = await json('POST', `/api/jobs/${cancelled.id}/retry`, BOB_TOKEN);
    assert.equal(retried.status, 201);
    const pending = await create(BOB_TOKEN, {
      type: 'iso.report',
      scope: 'project-1',
      title: text('pending title'),
      input: { secret: MARK },
    });
    const bobIds = [
      running.id,
      live.id,
      completed.id,
      failed.id,
      cancelled.id,
      retried.body.job.id,
      pending.id,
    ];
    const staticIds = bobIds.filter((id) => id !== live.id);

    // ---- the attackers' own jobs, of the same types and scopes ----
    const own = new Map<string, Set<string>>(ATTACKER_TOKENS.map((tok) => [tok, new Set()]));
    const aliceToken = ATTACKER_TOKENS[0] as string;
    for (const [type, scope] of [
      ['iso.report', 'project-1'],
      ['iso.export', 'project-1'],
      ['iso.live', 'project-2'],
      ['iso.build', 'project-1'],
      ['iso.sync', 'project-2'],
      [`iso.bonly.${TAG}`, `b-only-${TAG}`],
    ] as const) {
      own.get(aliceToken)?.add((await create(aliceToken, { type, scope, title: `A ${type}` })).id);
    }
    const aliceLive = await create(aliceToken, { type: 'iso.alive', title: 'A live' });
    own.get(aliceToken)?.add(aliceLive.id);
    const aliceLease = await claim('iso.alive');
    for (const tok of ATTACKER_TOKENS.slice(1)) {
      own
        .get(tok)
        ?.add(
          (await create(tok, { type: 'iso.report', scope: 'project-1', title: 'look-alike', dedupe: false }))
            .id,
        );
    }

    // ---- B's state and cursors before the barrage ----
    const before = new Map<string, Job>();
    for (const id of bobIds) before.set(id, (await json('GET', `/api/jobs/${id}`, BOB_TOKEN)).body.job);
    assert.equal(before.get(running.id)?.status, 'running');
    assert.equal(before.get(pending.id)?.status, 'pending');
    assert.equal(before.get(completed.id)?.status, 'completed');
    assert.equal(before.get(failed.id)?.status, 'failed');
    assert.equal(before.get(cancelled.id)?.status, 'cancelled');
    // Every text field an answer could carry holds the marker.
    assert.ok(
      before.get(running.id)?.progress === 42 && before.get(running.id)?.message?.includes(MARK),
      "the running job's progress and message",
    );
    assert.ok(JSON.stringify(before.get(completed.id)?.result).includes(MARK), "the completed job's result");
    assert.ok(before.get(failed.id)?.error?.message.includes(MARK), "the failed job's error");
    assert.ok(
      before.get(retried.body.job.id)?.retryOf === cancelled.id,
      'the retry links to the cancelled job',
    );
    assert.ok(
      [...before.values()].every((job) => job.title?.includes(MARK)),
      'every title carries the mark',
    );
    await bobStream.reader.until(
      () => bobStream.reader.jobs().some((job) => job.id === pending.id),
      5000,
      'B’s own stream to carry B’s jobs',
    );
    const bobCursors = () => {
      const ids = bobStream.reader.events.map((event) => event.id).filter((id) => id !== undefined);
      return [...new Set(ids)];
    };
    assert.ok(bobCursors().length >= 10, 'B has cursors to replay from');

    // ---- streams A holds open while B's job progresses ----
    const aliceHeld = await holdStream(aliceToken);
    const aliceReplayHeld = await holdStream(aliceToken, { 'Last-Event-ID': bobCursors()[0] as string });

    let stop = false;
    let bobUpdates = 0;
    let bobLastVersion = 0;
    const loopErrors: string[] = [];
    /** Reports progress every `pauseMs` until the barrage ends; a refused write ends the loop. */
    const progressLoop = async (
      job: Job,
      leaseToken: string,
      pauseMs: number,
      update: (n: number) => { progress: number; message: string },
      onVersion: (version: number) => void,
    ) => {
      for (let n = 1; !stop; n++) {
        const answer = await asWorker(`/jobs/${job.id}/progress`, { leaseToken, ...update(n) }).catch(
          (error: unknown) => ({ status: 0, body: String(error) }),
        );
        if (answer.status !== 200) {
          loopErrors.push(`progress of ${job.title} → ${answer.status} ${JSON.stringify(answer.body)}`);
          return;
        }
        onVersion(answer.body.job.version);
        await new Promise((resolve) => setTimeout(resolve, pauseMs));
      }
    };
    const bobProgress = progressLoop(
      live,
      liveLease.leaseToken,
      10,
      (n) => ({ progress: Math.min(99, Math.floor(n / 20)), message: text(`live message ${n}`) }),
      (version) => {
        bobUpdates++;
        bobLastVersion = version;
      },
    );
    let aliceUpdates = 0;
    const aliceProgress = progressLoop(
      aliceLive,
      aliceLease.leaseToken,
      100,
      (n) => ({ progress: Math.min(99, n), message: `A progress ${n}` }),
      () => aliceUpdates++,
    );

    // ---- the barrage ----
    const counts = { requests: 0, idProbes: 0, notFound: 0, lists: 0, streams: 0, leaks: 0 };
    const problems: string[] = [];
    const problem = (what: string) => {
      if (problems.length < 20) problems.push(what);
    };
    const leaked = (raw: string) =>
      raw.includes(MARK) || bobIds.some((id) => raw.includes(id)) || raw.includes(BOB);

    const tally: Tally = { counts, problem };
    const check = probeChecker(client, own, leaked, tally);

    let sent = 0;
    const barrageStarted = Date.now();
    try {
      while (sent < TARGET_REQUESTS) {
        const probes = roundOfProbes(bobIds, bobCursors()).slice(0, TARGET_REQUESTS - sent);
        const start = sent;
        await pool(
          probes.map((probe, i) => ({ probe, attacker: (start + i) % ATTACKERS.length })),
          CONCURRENCY,
          ({ probe, attacker }) => check(probe, attacker),
        );
        sent += probes.length;
      }
    } finally {
      stop = true;
      await Promise.all([bobProgress, aliceProgress]);
    }
    const barrageMs = Date.now() - barrageStarted;

    t.diagnostic(
      `isolation: ${counts.requests} requests as ${ATTACKERS.length} other users on B’s jobs in ${barrageMs} ms ` +
        `(${counts.idProbes} get/cancel/retry on B’s ids → ${counts.notFound} 404; ${counts.lists} lists; ` +
        `${counts.streams} streams/replays); ${counts.leaks} leaks; B’s live job took ${bobUpdates} updates meanwhile; ` +
        `setup and barrage ${Date.now() - started} ms`,
    );
    assert.deepEqual(problems, [], 'no answer other than 404 and no leak');
    assert.deepEqual(loopErrors, [], 'B’s and A’s workers kept their jobs');
    assert.equal(counts.notFound, counts.idProbes, '100% of requests on B’s ids answer 404');
    assert.equal(counts.leaks, 0);
    assert.ok(counts.requests >= TARGET_REQUESTS, 'enough requests were sent');
    assert.ok(bobUpdates > 0 && aliceUpdates > 0, 'B’s and A’s jobs progressed during the barrage');

    // ---- B's live progress reached B's stream, A's reached A's streams, and never crossed ----
    await bobStream.reader.until(
      () => bobStream.reader.jobs().some((job) => job.id === live.id && job.version === bobLastVersion),
      5000,
      'B’s last progress on B’s stream',
    );
    for (const stream of [aliceHeld, aliceReplayHeld]) {
      await eventually(
        () =>
          stream.reader.events.filter(
            (event) =>
              (event.event === 'job' || event.event === 'progress') &&
              JSON.parse(event.data).id === aliceLive.id,
          ).length >= aliceUpdates,
        5000,
        'A’s own progress on A’s held stream',
      );
      assert.equal(leaked(stream.raw.text), false, 'A’s held stream carries none of B’s data');
      const mine = own.get(aliceToken) as Set<string>;
      assert.deepEqual(
        stream.reader.events.flatMap((event) => {
          const data = JSON.parse(event.data);
          const jobs: Pick<Job, 'id'>[] =
            event.event === 'job' || event.event === 'progress' ? [data] : data.jobs;
          return jobs.filter((job) => !mine.has(job.id));
        }),
        [],
        'A’s held stream carries only A’s jobs',
      );
      stream.close();
    }
    bobStream.close();

    // ---- B's jobs are unchanged, and nobody made a job from them ----
    for (const id of staticIds) {
      const { status, body } = await json('GET', `/api/jobs/${id}`, BOB_TOKEN);
      assert.equal(status, 200);
      assert.deepEqual(body.job, before.get(id), `B’s job ${id} is unchanged`);
    }
    const liveAfter = (await json('GET', `/api/jobs/${live.id}`, BOB_TOKEN)).body.job as Job;
    assert.equal(liveAfter.status, 'running');
    assert.equal(liveAfter.version, bobLastVersion, 'B’s live job changed only by B’s worker');
    assert.equal(liveAfter.version, (before.get(live.id)?.version ?? 0) + bobUpdates);
    const bobList = (await json('GET', '/api/jobs?limit=200', BOB_TOKEN)).body.jobs as Job[];
    assert.deepEqual(bobList.map((job) => job.id).sort(), [...bobIds].sort(), 'B has exactly B’s jobs');
    for (const tok of ATTACKER_TOKENS) {
      const jobs = (await json('GET', '/api/jobs?limit=200', tok)).body.jobs as Job[];
      assert.deepEqual(
        jobs.map((job) => job.id).sort(),
        [...(own.get(tok) as Set<string>)].sort(),
        'each attacker still has exactly its own jobs (no retry made one from B’s)',
      );
    }
    await eventually(() => server.tracker.streams.connections.size === 0, 5000, 'every stream to close');
  });
});
