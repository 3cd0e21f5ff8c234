/** Bytes-per-hour benchmark: the scenarios (one user, client and counting proxy each) and the seeded history. */
import { randomBytes } from 'node:crypto';
import type { Job } from '@jobtracker/sdk';
import { STREAM_HEARTBEAT_MS } from '@jobtracker/sdk/wire';
import type { createWorkerApi } from '@jobtracker/sdk/worker';
import { signToken } from '@jobtracker/server';
import { envNumber } from '../lib/report.js';
import { startWireProxy, type WireCounters, type WireProxy } from '../lib/wire-proxy.js';

/** The server's heartbeat period (its default, `STREAM_HEARTBEAT_MS`); the window holds whole periods of it. */
export const HEARTBEAT_S = STREAM_HEARTBEAT_MS / 1000;
export const REQUESTED_S = envNumber('BENCH_WIRE_SECONDS', 4 * HEARTBEAT_S);
export const WINDOW_S =
  REQUESTED_S >= HEARTBEAT_S ? Math.floor(REQUESTED_S / HEARTBEAT_S) * HEARTBEAT_S : Math.max(1, REQUESTED_S);
export const WARMUP_S = envNumber('BENCH_WIRE_WARMUP_SECONDS', 5);
export const JOBS_PER_USER = 20;
export const NAIVE_EVERY_MS = 3000;
/** No in-process runner handles this type (the CLI runs without --demo): only our worker touches it. */
export const JOB_TYPE = 'report.generate';
export const SECTIONS = 40;
export const KB = 1024;
export const LEASE_MS = Math.min(3_600_000, (WARMUP_S + WINDOW_S + 120) * 1000);
/** The SDK's polling defaults (packages/sdk/src/transport/connection.ts), used untouched. */
export const SDK_POLL_ACTIVE_MS = 3000;
export const SDK_POLL_IDLE_MS = 25_000;
/** The slower active cadence measured beside the default, to show what meeting 1 MB/h costs in freshness. */
export const SLOW_POLL_ACTIVE_MS = 5000;

export type Design = 'sse' | 'poll' | 'naive';

export interface Scenario {
  key: string;
  label: string;
  design: Design;
  active: boolean;
  /** The SDK's `pollActiveMs`, when not its default. */
  pollActiveMs?: number;
  user: string;
  token: string;
  proxy: WireProxy;
  /** The job a worker keeps progressing, for the active scenarios. */
  running?: { id: string; leaseToken: string };
  /** Counters when the client first held the whole state (SSE `ready`, first poll, first list). */
  setup?: WireCounters;
  warm?: WireCounters;
  end?: WireCounters;
  /** Distinct versions of the running job the client has seen. */
  updates: number;
  updatesWarm: number;
  updatesEnd: number;
  lastJob?: Job;
  /** The SSE frames the active client was sent, rebuilt from the jobs it saw (for the compression estimate). */
  frames?: string[];
  /** Naive list bodies fetched: their bytes as sent and gzipped (the naive design on a compressing host). */
  naiveBodies?: { raw: number; gzip: number }[];
  /** Connection states the SDK reported, in order (deduplicated runs). */
  states: string[];
  errors: string[];
  stop?: () => void;
}

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
export const kbh = (bytes: number, seconds: number) => (bytes / seconds) * (3600 / KB);

export async function api<T>(url: string, token: string, body?: unknown): Promise<T> {
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), 10_000);
  try {
    const response = await fetch(url, {
      method: body === undefined ? 'GET' : 'POST',
      headers: {
        Authorization: `Bearer ${token}`,
        ...(body === undefined ? {} : { 'Content-Type': 'application/json' }),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: controller.signal,
    });
    const text = await response.text();
    if (!response.ok) throw new Error(`${url} answered ${response.status}: ${text.slice(0, 300)}`);
    return JSON.parse(text) as T;
  } finally {
    clearTimeout(timer);
  }
}

/** Header names sent more than once in a raw head, with the bytes of the extra copies. */
export function repeatedHeaders(head: string): { name: string; bytes: number }[] {
  const seen = new Map<string, { name: string; bytes: number; count: number }>();
  for (const line of head.split('\r\n').slice(1)) {
    const colon = line.indexOf(':');
    if (colon <= 0) continue;
    const name = line.slice(0, colon).toLowerCase();
    const entry = seen.get(name);
    if (entry) {
      entry.count++;
      entry.bytes += line.length + 2;
    } else seen.set(name, { name, bytes: 0, count: 1 });
  }
  return [...seen.values()].filter((e) => e.count > 1).map(({ name, bytes }) => ({ name, bytes }));
}

export function stopClients(scenarios: Scenario[]) {
  for (const s of scenarios) {
    const stop = s.stop;
    s.stop = undefined;
    stop?.();
  }
}

type WorkerApi = ReturnType<typeof createWorkerApi>;

/** One scenario per design and activity, each with its own user, token and counting proxy (pushed to `into`). */
export async function createScenarios(
  into: Scenario[],
  target: { host: string; port: number },
  secret: string,
): Promise<void> {
  const designs: [Design, boolean, string, number?][] = [
    ['sse', false, 'idle client, SSE'],
    ['sse', true, 'active client (1 job at 1 Hz), SSE'],
    ['poll', false, 'idle client, delta/ETag polling'],
    ['poll', true, 'active client, delta/ETag polling'],
    ['poll', true, `active client, polling with pollActiveMs: ${SLOW_POLL_ACTIVE_MS}`, SLOW_POLL_ACTIVE_MS],
    ['naive', false, 'naive: idle, 20 jobs every 3 s'],
    ['naive', true, 'naive: active, 20 jobs every 3 s'],
  ];
  for (const [design, active, label, pollActiveMs] of designs) {
    const key = `${design}-${active ? 'active' : 'idle'}${pollActiveMs ? `-${pollActiveMs}` : ''}`;
    // A host's user id; distinct per scenario so no scenario sees another's jobs.
    const user = `user-${key}-${randomBytes(4).toString('hex')}`;
    into.push({
      key,
      label,
      design,
      active,
      ...(pollActiveMs ? { pollActiveMs } : {}),
      user,
      token: signToken({ sub: user, expiresInSeconds: 4 * 3600 }, secret),
      proxy: await startWireProxy(target),
      updates: 0,
      updatesWarm: 0,
      updatesEnd: 0,
      states: [],
      errors: [],
    });
  }
}

/** Every user owns the same history: 20 finished reports, or 19 and a running one (the newest). */
export async function seedHistory(base: string, worker: WorkerApi, scenarios: Scenario[]): Promise<void> {
  const created = await Promise.all(
    scenarios.map(async (s) => {
      const ids: string[] = [];
      for (let i = 1; i <= JOBS_PER_USER; i++) {
        const { job } = await api<{ job: Job }>(`${base}/jobs`, s.token, {
          type: JOB_TYPE,
          scope: `report-${i}`,
          title: `Quarterly report ${i}`,
          input: { quarter: `Q${((i - 1) % 4) + 1}`, sections: SECTIONS },
        });
        ids.push(job.id);
      }
      return ids;
    }),
  );
  const runningIds = new Map<string, Scenario>();
  scenarios.forEach((s, index) => {
    const newest = created[index]?.at(-1);
    if (s.active && newest) runningIds.set(newest, s);
  });
  const total = created.flat().length;
  const claims = new Map<string, string>();
  while (claims.size < total) {
    const batch = await Promise.all(
      Array.from({ length: Math.min(10, total - claims.size) }, () =>
        worker.claim({ types: [JOB_TYPE], workerId: 'bench-worker', leaseMs: LEASE_MS }),
      ),
    );
    for (const claim of batch) {
      if (!claim) throw new Error(`only ${claims.size} of ${total} jobs could be claimed`);
      claims.set(claim.job.id, claim.leaseToken);
    }
  }
  const finish = [...claims].filter(([id]) => !runningIds.has(id));
  for (let i = 0; i < finish.length; i += 10) {
    await Promise.all(
      finish.slice(i, i + 10).map(([id, leaseToken], j) =>
        worker.complete(id, leaseToken, {
          url: `https://files.example.com/reports/${id}.pdf`,
          pages: 36 + ((i + j) % 20),
        }),
      ),
    );
  }
  for (const [id, s] of runningIds) {
    const leaseToken = claims.get(id) as string;
    s.running = { id, leaseToken };
    await worker.progress(id, leaseToken, { progress: 1, message: `Generating section 1 of ${SECTIONS}` });
  }
}
