import { after, describe, it } from 'node:test';
import { JobEngine } from '@jobtracker/test-support/server-internals';
import fc from 'fast-check';
import { MAX_STEPS, sequence, type Template } from './arbitraries.js';
import type { Backend } from './backends.js';
import { Run } from './harness.js';
import { DEFAULT_LEASE_MS, DEFAULT_MAX_ATTEMPTS } from './model.js';
import { describeStats, newStats, type Stats } from './stats.js';

// Promise 7: the job state machine. Thousands of random command sequences (create, claim, progress,
// heartbeat, complete, fail, release, cancel, retry, lease expiry, flush, replay; stale and foreign lease
// tokens, wrong owners, repeated calls, two calls at once) run against the real engine over a real
// database. Every call is checked against a reference model (accepted or refused with which code,
// which job, which version), and every published event against invariants that hold whatever the model
// says: terminal states stay terminal, progress never goes down within an attempt, `version` rises by
// exactly one per visible change with exactly one event, cursors rise, a refused call changes nothing,
// replays and the database equal what was published.
//
// Counts: each backend's test file gives its default and full counts; `JOBTRACKER_RELIABILITY_FULL=1`
// takes the full ones, `JOBTRACKER_STATE_MACHINE_RUNS=<n>` sets any count; run the file alone with
// `--test-timeout=0` for more. The seed is random and printed; a failure prints fast-check's seed and
// path: replay it with `JOBTRACKER_RELIABILITY_SEED=<seed> JOBTRACKER_RELIABILITY_PATH=<path>`.
const FULL = process.env.JOBTRACKER_RELIABILITY_FULL === '1';
const SEED = process.env.JOBTRACKER_RELIABILITY_SEED
  ? Number(process.env.JOBTRACKER_RELIABILITY_SEED)
  : Math.floor(Math.random() * 0x7fffffff);
const PATH = process.env.JOBTRACKER_RELIABILITY_PATH;
const HOUR = 60 * 60 * 1000;
/**
 * A sequence that has not ended by then is a failure like any other (a hang, e.g. a lock never released),
 * reported with its seed and path instead of the whole file running into `npm test`'s per-file timeout.
 */
const SEQUENCE_TIMEOUT_MS = 60_000;
/**
 * The default counts' whole run, shrinking included, stops in time to report inside the 240 s a test file
 * gets in `npm test`: a failure then prints the smallest sequence found so far; runs stopped before their
 * count without a failure fail too. The full counts take as long as they need.
 */
const DEFAULT_RUN_BUDGET_MS = 150_000;

/** How many sequences a backend runs by default and with `JOBTRACKER_RELIABILITY_FULL=1`. */
export interface RunCounts {
  default: number;
  full: number;
}

async function runSequence(backend: Backend, stats: Stats, templates: Template[]): Promise<void> {
  stats.sequences++;
  const errors: unknown[] = [];
  const onError = (error: unknown) => errors.push(error);
  const database = await backend.open(onError);
  const { store } = database;
  const clock = { now: Date.UTC(2030, 0, 1) };
  const engine = new JobEngine({
    store,
    now: () => clock.now,
    progressFlushMs: HOUR,
    leaseCheckIntervalMs: HOUR,
    defaultLeaseMs: DEFAULT_LEASE_MS,
    defaultMaxAttempts: DEFAULT_MAX_ATTEMPTS,
    onError,
  });
  try {
    await engine.start();
    const run = new Run({
      engine,
      store,
      clock,
      errors,
      stats,
      deliveryTimeoutMs: backend.deliveryTimeoutMs,
      rules: backend.rules,
    });
    for (const t of templates) await run.step(t);
    await engine.flush();
    await run.checkDurable();
  } finally {
    await engine.stop().catch(() => {});
    await database.close();
  }
}

/** The state-machine property on one backend. */
export function describeStateMachine(backend: Backend, counts: RunCounts): void {
  const runs = Number(process.env.JOBTRACKER_STATE_MACHINE_RUNS) || (FULL ? counts.full : counts.default);
  after(() => backend.dispose());
  describe(`job state machine on ${backend.name} (property-based)`, () => {
    it(`keeps its invariants over ${runs} random command sequences`, async (t) => {
      // Said before the run too: a run that hangs until the file's timeout never reaches its diagnostic.
      console.log(`state machine on ${backend.name}: seed ${SEED}${PATH ? `, path ${PATH}` : ''}`);
      const stats = newStats();
      const started = performance.now();
      const parameters: fc.Parameters<[Template[]]> = {
        numRuns: runs,
        seed: SEED,
        timeout: SEQUENCE_TIMEOUT_MS,
      };
      if (!FULL)
        parameters.plugins = [fc.interruptAfterTimeLimit(DEFAULT_RUN_BUDGET_MS, { failOnInterrupt: true })];
      if (PATH) parameters.path = PATH;
      await fc.assert(
        fc.asyncProperty(sequence, (templates) => runSequence(backend, stats, templates)),
        parameters,
      );
      stats.ms = performance.now() - started;
      t.diagnostic(describeStats(stats, SEED, MAX_STEPS));
    });
  });
}
