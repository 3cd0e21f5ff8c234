import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Job } from '@jobtracker/sdk';
import { createJobClient, type JobClient } from '@jobtracker/sdk';
import { createWorkerApi } from '@jobtracker/sdk/worker';
import type { RunningServer } from '@jobtracker/server';
import { signToken } from '@jobtracker/server';
import { eventually } from '@jobtracker/test-support/browser-assert';
import { type FaultProxy, startFaultProxy } from '@jobtracker/test-support/fault-proxy';
import { SECRET, startReliabilityServer, WORKER_KEY } from './server.js';

// Promise 1: connections reset every few seconds while jobs progress at 10 updates/s; every client ends
// equal to the database, no (job, version) pair is seen twice, and none is missed but progress reports
// the log kept one row for (it keeps a job's last report of each flush): never a status change.
const FULL = process.env.JOBTRACKER_RELIABILITY_FULL === '1';
const SECONDS = FULL ? 60 : 10;
const JOBS = FULL ? 50 : 12;
const USERS = FULL ? 10 : 4;
const CLIENTS_PER_USER = 2;
const RESET_EVERY_MS = 2000;

describe('connections reset while jobs progress', () => {
  let server: RunningServer;
  let proxy: FaultProxy;
  before(async () => {
    server = await startReliabilityServer({
      heartbeatMs: 500,
    });
    proxy = await startFaultProxy({ host: '127.0.0.1', port: server.port });
  });
  after(async () => {
    await proxy.close();
    await server.close();
  });

  it(`${JOBS} jobs at 10 updates/s for ${SECONDS} s, ${USERS * CLIENTS_PER_USER} clients, a reset every ${RESET_EVERY_MS / 1000} s`, async (t) => {
    const users = Array.from({ length: USERS }, (_, i) => ({
      sub: `resets-${i}`,
      token: signToken({ sub: `resets-${i}`, expiresInSeconds: 3600 }, SECRET),
    }));
    const clients: { user: number; client: JobClient; seen: Map<string, Job[]>; stop: () => void }[] = [];
    for (const [index, user] of users.entries()) {
      for (let c = 0; c < CLIENTS_PER_USER; c++) {
        const client = createJobClient({
          baseUrl: `${proxy.url}/api`,
          token: user.token,
          transport: 'sse',
          storage: null,
          shareTabs: false,
          watchdogMs: 3000,
        });
        const seen = new Map<string, Job[]>();
        const stop = client.$jobs.subscribe((jobs) => {
          for (const job of Object.values(jobs)) {
            const states = seen.get(job.id) ?? [];
            if (states.at(-1)?.version !== job.version) states.push(job);
            seen.set(job.id, states);
          }
        });
        clients.push({ user: index, client, seen, stop });
      }
    }
    const worker = createWorkerApi({ baseUrl: `${server.url}/api`, workerKey: WORKER_KEY });
    const leases: { id: string; leaseToken: string }[] = [];
    try {
      await eventually(
        () => clients.every(({ client }) => client.$connection.get().state === 'live'),
        10_000,
        'every client live',
      );
      for (let j = 0; j < JOBS; j++) {
        await clients[(j % USERS) * CLIENTS_PER_USER]?.client.start({ type: 'resets', scope: `job-${j}` });
        const claimed = await worker.claim({ types: ['resets'], leaseMs: 60_000 });
        assert.ok(claimed, 'the job is claimed');
        leases.push({ id: claimed.job.id, leaseToken: claimed.leaseToken });
      }
      const resets = setInterval(() => proxy.reset(), RESET_EVERY_MS);
      let updates = 0;
      const until = Date.now() + SECONDS * 1000;
      try {
        for (let tick = 1; Date.now() < until; tick++) {
          const results = await worker.progressMany(
            leases.map(({ id, leaseToken }) => ({
              id,
              leaseToken,
              progress: Math.min(99, Math.floor(tick / 10)),
              message: `tick ${tick}`,
            })),
          );
          updates += results.filter((result) => 'version' in result).length;
          await new Promise((resolve) => setTimeout(resolve, 100));
        }
      } finally {
        clearInterval(resets);
      }
      for (const { id, leaseToken } of leases) await worker.complete(id, leaseToken, { url: `/r/${id}` });

      // Every client converges to the database: the same jobs, at the same versions, with the same fields.
      const truth = new Map<number, Job[]>();
      for (const [index, user] of users.entries()) {
        const response = await fetch(`${server.url}/api/jobs?limit=100`, {
          headers: { Authorization: `Bearer ${user.token}` },
        });
        truth.set(index, ((await response.json()) as { jobs: Job[] }).jobs);
      }
      await eventually(
        () =>
          clients.every(({ user, client }) =>
            (truth.get(user) ?? []).every((job) => client.$jobs.get()[job.id]?.version === job.version),
          ),
        15_000,
        'every client to reach the database’s versions',
      );
      let pairs = 0;
      let missed = 0;
      let passedOver = 0;
      let repeated = 0;
      for (const { user, client, seen } of clients) {
        const expected = truth.get(user) ?? [];
        assert.deepEqual(
          Object.values(client.$jobs.get()).sort((a, b) => a.id.localeCompare(b.id)),
          [...expected].sort((a, b) => a.id.localeCompare(b.id)),
          'the client’s store equals the database',
        );
        for (const job of expected) {
          const states = seen.get(job.id) ?? [];
          const versions = states.map((state) => state.version);
          pairs += versions.length;
          repeated += versions.length - new Set(versions).size;
          for (const [i, state] of states.entries()) {
            const before = states[i - 1];
            const gap = before ? state.version - before.version - 1 : 0;
            if (gap <= 0) continue;
            // Only progress reports lie between two states of one running attempt (no job here is re-queued
            // or released); anything else passed over is a missed change.
            if (before?.status === 'running' && state.attempt === before.attempt) passedOver += gap;
            else missed += gap;
          }
        }
      }
      t.diagnostic(
        `${updates} progress updates accepted, ${proxy.opened} connections through the proxy (${Math.floor((SECONDS * 1000) / RESET_EVERY_MS)} resets), ${clients.length} clients saw ${pairs} (job, version) pairs: ${missed} missed, ${passedOver} progress versions passed over on resuming (the log kept one row for them), ${repeated} twice`,
      );
      assert.equal(missed, 0, 'no change missed but progress reports the log kept one row for');
      assert.equal(repeated, 0, 'no version seen twice');
      assert.ok(proxy.opened > clients.length, 'the resets made the clients reconnect');
    } finally {
      for (const { stop } of clients) stop();
    }
  });
});
