// Scenario 9 of issue 7: a token that expires mid-stream ends that stream; a client whose token function
// hands out short-lived tokens resumes after each expiry without a gap.

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createJobClient, type Job } from '@jobtracker/sdk';
import { createWorkerApi } from '@jobtracker/sdk/worker';
import type { RunningServer } from '@jobtracker/server';
import { signToken } from '@jobtracker/server';
import { createSseParser } from '@jobtracker/test-support/sdk-internals';
import { eventually, SseReader } from '@jobtracker/test-support/server';
import { SECRET, startTokensServer, type TokensServer, USER, WORKER_KEY } from './fixture.js';

describe('tokens: expiry', () => {
  let server: RunningServer;
  let goodToken: string;
  let send: TokensServer['send'];
  let fixture: TokensServer;

  before(async () => {
    fixture = await startTokensServer();
    ({ server, goodToken, send } = fixture);
  });

  after(() => fixture.close());

  it('ends a stream when its token expires, within a second of its expiry', async (t) => {
    const opened: { reader: SseReader; exp: number; controller: AbortController }[] = [];
    for (const lifetime of [1, 2, 3]) {
      const token = signToken({ sub: USER, expiresInSeconds: lifetime }, SECRET);
      const exp = (
        JSON.parse(Buffer.from(token.split('.')[1] as string, 'base64url').toString()) as { exp: number }
      ).exp;
      const controller = new AbortController();
      const response = await fetch(`${server.url}/api/jobs/stream`, {
        headers: { Authorization: `Bearer ${token}` },
        signal: controller.signal,
      });
      assert.equal(response.status, 200);
      opened.push({ reader: new SseReader(response), exp: exp * 1000, controller });
    }
    try {
      for (const { reader } of opened) await reader.until(() => reader.ready.length === 1, 3000, 'ready');
      // Still live before expiry: a change reaches every stream.
      const created = await send('POST', '/api/jobs', `Bearer ${goodToken}`, { type: 'tok.expiry' });
      const createdId = (JSON.parse(created.text) as { job: Job }).job.id;
      for (const { reader } of opened) {
        await reader.until(() => reader.jobs().some((j) => j.id === createdId), 3000, 'a live event');
      }
      const lateness: number[] = [];
      for (const { reader, exp } of opened) {
        await reader.ended$();
        const endedAt = Date.now();
        assert.ok(endedAt >= exp - 20, `the stream ended ${exp - endedAt} ms before its token expired`);
        assert.ok(endedAt <= exp + 1000, `the stream ended ${endedAt - exp} ms after its token expired`);
        lateness.push(endedAt - exp);
        // The streams of later expiries are still open.
        for (const other of opened) if (other.exp > exp + 100) assert.equal(other.reader.ended, false);
      }
      t.diagnostic(`streams ended ${lateness.join(', ')} ms after their tokens expired`);
      await eventually(() => server.tracker.streams.connections.size === 0, 2000, 'the server to drop them');
    } finally {
      for (const { controller } of opened) controller.abort();
    }
  });

  it('resumes with a refreshed token after every expiry without missing or repeating a version', async (t) => {
    const started = Date.now();
    let issued = 0;
    const connections: {
      status: number;
      lastEventId: string | null;
      events: string[];
      versions: [string, number, boolean][];
    }[] = [];
    /** (job id, version) of every `job` and `progress` event on the wire, in order. */
    const wire: [string, number][] = [];
    const tap: typeof fetch = async (input, init) => {
      const response = await fetch(input, init);
      if (!String(input).includes('/jobs/stream')) return response;
      const headers = new Headers(init?.headers);
      const connection = {
        status: response.status,
        lastEventId: headers.get('last-event-id'),
        events: [] as string[],
        versions: [] as [string, number, boolean][],
      };
      connections.push(connection);
      if (!response.body) return response;
      const [mine, theirs] = response.body.tee();
      const feed = createSseParser(({ event, data }) => {
        connection.events.push(event);
        if (event === 'job' || event === 'progress') {
          const changed = JSON.parse(data) as Pick<Job, 'id' | 'version'>;
          wire.push([changed.id, changed.version]);
          connection.versions.push([changed.id, changed.version, connection.events.includes('ready')]);
        }
      });
      void (async () => {
        try {
          for await (const chunk of mine.pipeThrough(new TextDecoderStream())) feed(chunk);
        } catch {
          // aborted with the client's connection
        }
      })();
      return new Response(theirs, { status: response.status, headers: response.headers });
    };
    const client = createJobClient({
      baseUrl: `${server.url}/api`,
      transport: 'sse',
      storage: null,
      shareTabs: false,
      fetch: tap,
      token: () => {
        issued++;
        return signToken({ sub: USER, expiresInSeconds: 2 }, SECRET);
      },
    });
    const seen = new Map<string, number[]>();
    let previous: Record<string, Job> = {};
    const unsubscribe = client.$jobs.subscribe((jobs) => {
      for (const [id, changed] of Object.entries(jobs)) {
        if (changed !== previous[id]) seen.set(id, [...(seen.get(id) ?? []), changed.version]);
      }
      previous = jobs;
    });
    const worker = createWorkerApi({ baseUrl: `${server.url}/api`, workerKey: WORKER_KEY });
    try {
      await eventually(() => client.$connection.get().state === 'live', 3000, 'the client to go live');
      const created = await send('POST', '/api/jobs', `Bearer ${goodToken}`, {
        type: 'tok.refresh',
        title: 'Refreshed',
      });
      const id = (JSON.parse(created.text) as { job: Job }).job.id;
      const claimed = await worker.claim({ types: ['tok.refresh'], leaseMs: 60_000 });
      assert.equal(claimed?.job.id, id);
      const versions = [1, claimed.job.version];
      // Progress every 100 ms for 5.5 s: the client's 1–2 s tokens expire (and its stream ends) 3 to 5 times.
      for (let n = 1; Date.now() - started < 6000; n++) {
        const changed = await worker.progress(id, claimed.leaseToken, {
          progress: Math.min(99, n),
          message: `step ${n}`,
        });
        versions.push(changed.version);
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      const done = await worker.complete(id, claimed.leaseToken, { url: '/done' });
      versions.push(done.version);
      const last = done.version;
      assert.deepEqual(
        versions,
        Array.from({ length: last }, (_, i) => i + 1),
        'each worker write is one version',
      );
      await eventually(
        () => client.$jobs.get()[id]?.version === last,
        3000,
        'the client to hold the completed job',
      );
      assert.equal(client.$jobs.get()[id]?.status, 'completed');

      // Reports made while the client had no stream reach it from the change log, which keeps one progress
      // row per job per flush (docs/reliability.md, promise 1): a run of them may come as its last.
      const logged = (
        await server.tracker.store.eventsAfter(USER, 0, await server.tracker.store.maxCursor(), 10_000)
      ).filter((event) => event.jobId === id);
      const folded = (version: number) =>
        logged.some(
          (event) => event.progressFrom !== null && event.progressFrom < version && version < event.version,
        );
      const taken = seen.get(id) ?? [];
      const expected = Array.from({ length: last }, (_, i) => i + 1).filter(
        (version) => !folded(version) || taken.includes(version),
      );
      assert.deepEqual(
        taken,
        expected,
        'the client’s store took every version once, in order; only reports the log folded left out',
      );
      // A live stream (past its `ready`) carries every report: only a reconnection's replay may fold.
      for (const [i, connection] of connections.entries()) {
        const live = connection.versions.filter(([jobId, , afterReady]) => jobId === id && afterReady);
        for (const [at, [, version]] of live.entries()) {
          if (at > 0)
            assert.equal(version, (live[at - 1] as [string, number, boolean])[1] + 1, `stream ${i} live`);
        }
      }
      assert.deepEqual(
        wire.filter(([jobId]) => jobId === id).map(([, version]) => version),
        taken,
        'the streams carried what the store took, each version once, in order',
      );
      assert.ok(
        connections.length >= 3,
        `the stream was reopened after each expiry (${connections.length} connections)`,
      );
      assert.deepEqual(
        connections.map((c) => c.status),
        connections.map(() => 200),
        'every reconnection was accepted',
      );
      for (const [i, connection] of connections.entries()) {
        if (i === 0) continue;
        assert.ok(connection.lastEventId, 'each reconnection resumes from its cursor');
        assert.ok(
          connection.events.every((event) => event === 'job' || event === 'progress' || event === 'ready'),
          `reconnection ${i} replayed (no snapshot or reset): ${connection.events.join(',')}`,
        );
      }
      t.diagnostic(
        `refresh: ${last} versions over ${connections.length} stream connections (${issued} tokens of 2 s), ` +
          `${last - taken.length} folded by the log, 0 missed, 0 repeated, ${Date.now() - started} ms`,
      );
    } finally {
      unsubscribe();
    }
    await eventually(
      () => server.tracker.streams.connections.size === 0,
      3000,
      'the client’s stream to close',
    );
  });
});
