import os from 'node:os';
import { roundTo, wholePercent } from '../lib/format.js';
import { envNumber, envRates } from '../lib/report.js';
import type { HttpClient, OurServer } from '../lib/sse-harness.js';
import type { ProfileSummary } from '../lib/sse-probe.js';

export const STREAMS = Math.max(1, Math.floor(envNumber('BENCH_SCALE_STREAMS', 200)));
export const RATES = envRates('BENCH_SCALE_RATES', '50,200');
export const PHASE_MS = Math.max(1000, envNumber('BENCH_SCALE_PHASE_MS', 4000));
export const IN_FLIGHT = Math.max(1, Math.floor(envNumber('BENCH_SCALE_INFLIGHT', 64)));
export const PG_URL = process.env.BENCH_SCALE_PG_URL || 'postgres://postgres@127.0.0.1:5432/postgres';
export const PROFILE = envNumber('BENCH_PROFILE', 1) > 0;
export const START_PG = 'pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start';
export const WINDOW_ORDER = ['A', 'B', 'C', 'C', 'B', 'A'] as const;
export const WINDOW_MS = PHASE_MS / 2;
export const WINDOW_WARM_MS = 500;
export const WARMUP_CALLS = 300;
export const DRAIN_MS = 5000;
export const PROFILE_MS = 1500;
/** % of a core that other processes may use before the notes call the machine busy. */
export const OTHER_CPU_QUIET = 10;
export const CORES = os.availableParallelism();
/** Each PostgreSQL instance's pool (PgStore's default). */
export const POOL_SIZE = 10;

export type SetupKey = (typeof WINDOW_ORDER)[number];

export interface Setup {
  key: SetupKey;
  label: string;
  /** The instance the clients stream from. */
  streams: OurServer;
  /** The instance the worker calls go to (the same one outside C). */
  worker: OurServer;
  instances: OurServer[];
  schema: string | null;
  /** One progress call for the i-th user's job, stamped with its send time. */
  send: (i: number) => Promise<number>;
  api: HttpClient;
}

export interface LatencyTally {
  rate: number;
  ok: number;
  errors: number;
  firstError: string | null;
  elapsedMs: number;
  latencies: number[];
  roundTrips: number[];
}

export interface ThroughputTally {
  measuredMs: number;
  ok: number;
  frames: number;
  errors: number;
  firstError: string | null;
  /** Accepted updates that had not reached the clients DRAIN_MS after a window's loop stopped. */
  missing: number;
  roundTrips: number[];
  latencies: number[];
  /** CPU, ms, per instance (streams first when there are two). */
  serverMs: number[];
  postgresMs: number;
  clientMs: number;
  senderMs: number;
  machineMs: number;
  backendTotals: Map<string, number>;
  backendSamples: number;
  profiles: ProfileSummary[];
}

export interface Run {
  setup: Setup;
  latency: LatencyTally[];
  throughput: ThroughputTally;
}

export const formatMs = (value: number) => `${roundTo(value, 2)} ms`;
export const pct = wholePercent;
export const users = () => Array.from({ length: STREAMS }, (_, i) => `user-${i}`);
export const append = (into: number[], values: Iterable<number>) => {
  for (const value of values) into.push(value);
};

export const emptyThroughput = (): ThroughputTally => ({
  measuredMs: 0,
  ok: 0,
  frames: 0,
  errors: 0,
  firstError: null,
  missing: 0,
  roundTrips: [],
  latencies: [],
  serverMs: [],
  postgresMs: 0,
  clientMs: 0,
  senderMs: 0,
  machineMs: 0,
  backendTotals: new Map(),
  backendSamples: 0,
  profiles: [],
});
