import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { JobTrackerHttpError } from '@jobtracker/sdk';
import { createWorkerApi } from '@jobtracker/sdk/worker';
import { type FaultProxy, startFaultProxy } from '@jobtracker/test-support/fault-proxy';
import { openTestSchema } from '@jobtracker/test-support/postgres';
import { SECRET, SseReader, tokenFor, WORKER_KEY } from '@jobtracker/test-support/server';
import { type ServerProcess, startServerProcess } from '@jobtracker/test-support/server-process';
import pg from 'pg';

// Two instances reach PostgreSQL through a TCP proxy. While a worker reports through one and a client
// streams from the other, the database goes away for half a second at a time: every connection, pooled
// and listening, is reset and new ones are refused. A write the database could not take must answer
// 503 with Retry-After (never 500) so that the worker retries; once the database is back, the client
// must hold every version, in order, with no gap, and both instances must listen again.

const FULL = [process.env.JOBTRACKER_SCALE_OUT_FULL, process.env.JOBTRACKER_RELIABILITY_FULL].includes('1');
const STEPS = FULL ? 200 : 40;
const RESETS = FULL ? 10 : 3;
const OUTAGE_MS = 500;
const env = { JOBTRACKER_SECRET: SECRET, JOBTRACKER_WORKER_KEY: WORKER_KEY };

let database: Awaited<ReturnType<typeof openTestSchema>>;
let proxy: FaultProxy;
let a: ServerProcess;
let b: ServerProcess;
let admin: pg.Client;
const stops: (() => unknown)[] = [];

before(async () => {
  database = await openTestSchema();
  const target = new URL(database.url);
  proxy = await startFaultProxy({ host: target.hostname, port: Number(target.port || 5432) });
  const db = new URL(database.db);
  db.host = new URL(proxy.url).host;
  [a, b] = (await Promise.all([1, 2].map(() => startServerProcess({ db: db.toString(), env })))) as [
    ServerProcess,
    ServerProcess,
  ];
  admin = new pg.Client({ connectionString: database.url });
  await admin.connect();
});

after(async () => {
  for (const stop of stops) stop();
  await Promise.all([a, b].map((server) => server?.kill()));
  await proxy?.close();
  await admin?.end();
  await database?.drop();
});

describe('database connections reset under two instances', () => {
  it(`answers 503 while the database is out of reach, then delivers every version (${STEPS} steps, ${RESETS} outages)`, async (t) => {
    const controller = new AbortController();
    stops.push(() => controller.abort());
    const token = tokenFor('grace');
    const response = await fetch(`${a.url}/api/jobs/stream`, {
      headers: { Authorization: `Bearer ${token}` },
      signal: controller.signal,
    });
    const reader = new SseReader(response);
    await reader.until(() => reader.ready.length > 0, 10_000, 'the stream on A');

    const created = await fetch(`${b.url}/api/jobs`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' },
      body: JSON.stringify({ type: 'db.reset' }),
    });
    const { job } = (await created.json()) as { job: { id: string } };
    const worker = createWorkerApi({ baseUrl: `${b.url}/api`, workerKey: WORKER_KEY });
    const refusals = new Map<string, number>();
    /** Calls until the API takes it, counting the answers it gave meanwhile. */
    const untilTaken = async <T>(call: () => Promise<T>): Promise<T> => {
      const deadline = Date.now() + 30_000;
      for (;;) {
        try {
          return await call();
        } catch (error) {
          const answer =
            error instanceof JobTrackerHttpError
              ? `${error.status} ${error.code}${error.retryAfterMs === null ? '' : ` retry-after ${error.retryAfterMs} ms`}`
              : String(error);
          refusals.set(answer, (refusals.get(answer) ?? 0) + 1);
          if (Date.now() > deadline) throw error;
          await new Promise((resolve) => setTimeout(resolve, 100));
        }
      }
    };
    const claim = await untilTaken(() => worker.claim({ types: ['db.reset'], workerId: 'w' }));
    assert.equal(claim?.job.id, job.id);
    const lease = claim?.leaseToken ?? '';
    const resetEvery = Math.floor(STEPS / (RESETS + 1));
    for (let step = 1; step <= STEPS; step++) {
      if (step % resetEvery === 0) {
        proxy.down();
        setTimeout(() => proxy.up(), OUTAGE_MS);
      }
      await untilTaken(() => worker.progress(job.id, lease, { progress: (100 * step) / (STEPS + 1) }));
    }
    await untilTaken(() => worker.complete(job.id, lease, null));

    await reader.until(
      () => reader.jobs().some((event) => event.id === job.id && event.status === 'completed'),
      20_000,
      'the completion on A',
    );
    const versions = reader
      .jobs()
      .filter((event) => event.id === job.id)
      .map((event) => event.version);
    const stored = await admin.query<{ version: number }>(
      `SELECT version FROM "${database.schema}".jobs WHERE id = $1`,
      [job.id],
    );
    const final = stored.rows[0]?.version ?? 0;
    assert.deepEqual(
      versions,
      Array.from({ length: final }, (_, i) => i + 1),
      'every version once, in order',
    );
    const answers = [...refusals.keys()];
    assert.ok(
      answers.some((answer) => answer.startsWith('503 ')),
      'the outages were felt: some writes were refused',
    );
    assert.deepEqual(
      answers.filter((answer) => !/^503 storage_unavailable retry-after \d+ ms$/.test(answer)),
      [],
      `only 503 storage_unavailable with Retry-After while the database was away: ${JSON.stringify(Object.fromEntries(refusals))}`,
    );
    // The listeners come back on their own backoff (at most 5 s between tries).
    const listening = async () => (await database.listenerPids()).length;
    const deadline = Date.now() + 15_000;
    while ((await listening()) < 2 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 200));
    assert.equal(await listening(), 2, 'both instances listen again');
    t.diagnostic(
      `${STEPS} steps, ${RESETS} outages of ${OUTAGE_MS} ms: answers refused meanwhile ${JSON.stringify(Object.fromEntries(refusals))}; versions 1..${final} each seen once`,
    );
  });
});
