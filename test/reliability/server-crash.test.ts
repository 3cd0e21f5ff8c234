import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import type { Job } from '@jobtracker/sdk';
import { createJobClient, type JobClient } from '@jobtracker/sdk';
import { createWorkerApi } from '@jobtracker/sdk/worker';
import { signToken } from '@jobtracker/server';
import { delay, eventually } from '@jobtracker/test-support/browser-assert';
import { type ServerProcess, startServerProcess } from '@jobtracker/test-support/server-process';

// Promise 2: a server SIGKILLed with clients connected and restarted 3 s later: every client converges to
// the database within 5 s, no terminal transition is lost, and no client is left disconnected.
const FULL = process.env.JOBTRACKER_RELIABILITY_FULL === '1';
const CLIENTS = FULL ? 200 : 50;
const PER_USER = 2;
const SECRET = 'reliability-secret-with-enough-entropy-0123';
const WORKER_KEY = 'reliability-worker-key';

describe('a server killed with clients connected', () => {
  let server: ServerProcess | undefined;
  after(async () => {
    await server?.stop();
  });

  it(`brings all ${CLIENTS} clients back to the database after a SIGKILL and a restart 3 s later`, async (t) => {
    server = await startServerProcess({
      env: { JOBTRACKER_SECRET: SECRET, JOBTRACKER_WORKER_KEY: WORKER_KEY },
    });
    const base = `${server.url}/api`;
    const users = Array.from({ length: CLIENTS / PER_USER }, (_, i) =>
      signToken({ sub: `crash-${i}`, expiresInSeconds: 3600 }, SECRET),
    );
    const clients: { user: number; client: JobClient; stop: () => void }[] = [];
    for (const [user, token] of users.entries()) {
      for (let c = 0; c < PER_USER; c++) {
        const client = createJobClient({
          baseUrl: base,
          token,
          transport: 'sse',
          storage: null,
          shareTabs: false,
        });
        clients.push({ user, client, stop: client.$jobs.subscribe(() => {}) });
      }
    }
    const worker = createWorkerApi({ baseUrl: base, workerKey: WORKER_KEY });
    try {
      await eventually(
        () => clients.every(({ client }) => client.$connection.get().state === 'live'),
        20_000,
        'every client live',
      );
      // One job per user; half of them finish just before the kill, the rest keep running.
      const leases: { id: string; leaseToken: string }[] = [];
      for (const [user] of users.entries()) {
        await clients[user * PER_USER]?.client.start({ type: 'crash' });
        const claimed = await worker.claim({ types: ['crash'], leaseMs: 120_000 });
        assert.ok(claimed, 'the job is claimed');
        leases.push({ id: claimed.job.id, leaseToken: claimed.leaseToken });
        await worker.progress(claimed.job.id, claimed.leaseToken, { progress: 50, message: 'halfway' });
      }
      const finished = leases.filter((_, i) => i % 2 === 0);
      for (const { id, leaseToken } of finished) await worker.complete(id, leaseToken, { url: `/r/${id}` });

      await server.kill();
      await delay(3000);
      server = await server.restart();
      const restartedAt = Date.now();

      const truth = new Map<number, Job[]>();
      for (const [user, token] of users.entries()) {
        const response = await fetch(`${server.url}/api/jobs`, {
          headers: { Authorization: `Bearer ${token}` },
        });
        truth.set(user, ((await response.json()) as { jobs: Job[] }).jobs);
      }
      const completed = [...truth.values()].flat().filter((job) => job.status === 'completed');
      assert.equal(
        completed.length,
        finished.length,
        'every completion acknowledged before the kill survived it',
      );

      const converged = (entry: (typeof clients)[number]) =>
        entry.client.$connection.get().state === 'live' &&
        (truth.get(entry.user) ?? []).every(
          (job) => JSON.stringify(entry.client.$jobs.get()[job.id]) === JSON.stringify(job),
        );
      const times: number[] = [];
      const pending = new Set(clients);
      await eventually(
        () => {
          for (const entry of [...pending]) {
            if (converged(entry)) {
              pending.delete(entry);
              times.push(Date.now() - restartedAt);
            }
          }
          return pending.size === 0;
        },
        15_000,
        'every client to be live and equal to the database',
      ).catch((error) => {
        const detail = [...pending].slice(0, 3).map((entry) => {
          const held = entry.client.$jobs.get();
          const differing = (truth.get(entry.user) ?? []).filter(
            (job) => JSON.stringify(held[job.id]) !== JSON.stringify(job),
          );
          return `${JSON.stringify(entry.client.$connection.get())}; differing: ${differing
            .map((job) => `db ${JSON.stringify(job)} client ${JSON.stringify(held[job.id])}`)
            .join(' | ')}`;
        });
        throw new Error(
          `${error.message}: ${pending.size} of ${clients.length} clients not there: ${detail.join(' // ')}`,
        );
      });
      times.sort((a, b) => a - b);
      const slowest = times.at(-1) ?? 0;
      t.diagnostic(
        `${clients.length} clients, ${finished.length} completions before the kill (all kept); after the restart every client live and equal to the database: median ${times[Math.floor(times.length / 2)]} ms, slowest ${slowest} ms`,
      );
      assert.ok(slowest <= 5000, `every client converged within 5 s of the restart (slowest ${slowest} ms)`);
    } finally {
      for (const { stop } of clients) stop();
    }
  });
});
