import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { isDeepStrictEqual } from 'node:util';
import type { CreateJobResponse, Job, JobError, JobStatus, JsonValue } from '@jobtracker/sdk';
import type { LiveEvent } from '@jobtracker/test-support/server-internals';
import {
  ApiError,
  type Changes,
  type ClaimedJob,
  type CreateJobInput,
  JobEngine,
  SqliteStore,
  toWireJob,
} from '@jobtracker/test-support/server-internals';
import fc from 'fast-check';

// Promise 7: the job state machine. Thousands of random command sequences (create, claim, progress,
// heartbeat, complete, fail, release, cancel, retry, lease expiry, flush, replay; stale and foreign lease
// tokens, wrong owners, repeated calls, two calls at once) run against the real engine over a real
// SQLite file. Every call is checked against a reference model (accepted or refused with which code,
// which job, which version), and every published event against invariants that hold whatever the model
// says: terminal states stay terminal, progress never goes down within an attempt, `version` rises by
// exactly one per visible change with exactly one event, cursors rise, a refused call changes nothing,
// replays and the database equal what was published.
//
// Counts: 300 sequences of 7 to 40 steps by default (about 12 s on two cores); with
// `JOBTRACKER_RELIABILITY_FULL=1`, 2,000 (about 60 s, inside the 120 s a test file gets in
// `npm test`). `JOBTRACKER_STATE_MACHINE_RUNS=<n>` sets any count; run the file alone with
// `--test-timeout=0` for more. The seed is random and printed; a failure prints fast-check's seed and
// path: replay it with `JOBTRACKER_RELIABILITY_SEED=<seed> JOBTRACKER_RELIABILITY_PATH=<path>`.
const FULL = process.env.JOBTRACKER_RELIABILITY_FULL === '1';
const RUNS = Number(process.env.JOBTRACKER_STATE_MACHINE_RUNS) || (FULL ? 2_000 : 300);
const MAX_STEPS = 40;
const SEED = process.env.JOBTRACKER_RELIABILITY_SEED
  ? Number(process.env.JOBTRACKER_RELIABILITY_SEED)
  : Math.floor(Math.random() * 0x7fffffff);
const PATH = process.env.JOBTRACKER_RELIABILITY_PATH;

const OWNERS = ['alice', 'bob', 'carol'] as const;
const TYPES = ['gen', 'export'] as const;
const SCOPES = [null, 'doc-1', 'doc-2'] as const;
const INPUTS: readonly (JsonValue | undefined)[] = [undefined, null, { doc: 'd1', pages: [1, 2] }];
const CLAIM_TYPES: readonly string[][] = [
  ['gen'],
  ['export'],
  ['gen', 'export'],
  ['gen', 'export'],
  ['gen', 'export'],
  ['unknown'],
];
const RESULTS: readonly JsonValue[] = [null, { url: '/programs/1', summary: 'ok' }, 'done', 42];
const ERRORS: readonly JobError[] = [
  { message: 'boom' },
  { message: 'quota exceeded', code: 'quota', retryable: true },
  { message: 'bad input', retryable: false },
];
const DEFAULT_LEASE_MS = 3_000;
const DEFAULT_MAX_ATTEMPTS = 2;
const HOUR = 60 * 60 * 1000;
const TERMINAL: readonly JobStatus[] = ['completed', 'failed', 'cancelled'];
const isActive = (status: JobStatus) => status === 'pending' || status === 'running';

/** The model's stand-in for the message the engine writes when it re-queues a lost worker's job. */
const REQUEUE_MESSAGE = '\u0000(the engine’s re-queue message)';
const NEVER_ISSUED = 'never-issued-lease-token';
const MISSING_ID = '0000000000zzzzzzzzzzzzzzzz';

// ---- generated steps: templates, resolved against the model's state when they run ------------------

interface JobRef {
  /** Which jobs to pick among (all of them when none is in that state). */
  pool: 'running' | 'active' | 'finished' | 'any';
  n: number;
}
interface TokenRef {
  pick: 'current' | 'stale' | 'other' | 'bogus';
  n: number;
}
type OwnerRef = 'own' | 'other';

type Template =
  | {
      op: 'create';
      owner: number;
      type: number;
      scope: number;
      input: number;
      dedupe: boolean | undefined;
      maxAttempts: number | undefined;
      key: string | undefined;
    }
  | { op: 'claim'; types: number; leaseMs: number | undefined }
  | {
      op: 'progress';
      job: JobRef;
      token: TokenRef;
      progress: number | null | undefined | 'same';
      message: string | null | undefined;
      leaseMs: number | undefined;
    }
  | { op: 'heartbeat'; job: JobRef; token: TokenRef; leaseMs: number | undefined }
  | { op: 'complete'; job: JobRef; token: TokenRef; result: number }
  | { op: 'fail'; job: JobRef; token: TokenRef; error: number }
  | { op: 'release'; job: JobRef; token: TokenRef }
  | { op: 'cancel'; job: JobRef; owner: OwnerRef }
  | { op: 'retry'; job: JobRef; owner: OwnerRef }
  | { op: 'get'; job: JobRef; owner: OwnerRef }
  | { op: 'tick'; ms: number }
  | { op: 'recover' }
  | { op: 'flush' }
  | { op: 'replay'; owner: number; since: number }
  | { op: 'repeat' }
  | { op: 'pair'; first: Template; second: Template | undefined };

type Call =
  | { op: 'create'; owner: string; input: CreateJobInput; key: string | undefined }
  | { op: 'claim'; types: string[]; leaseMs: number | undefined }
  | {
      op: 'progress';
      id: string;
      token: string;
      update: { progress?: number | null; message?: string | null; leaseMs?: number };
    }
  | { op: 'heartbeat'; id: string; token: string; leaseMs: number | undefined }
  | { op: 'complete'; id: string; token: string; result: JsonValue }
  | { op: 'fail'; id: string; token: string; error: JobError }
  | { op: 'release'; id: string; token: string }
  | { op: 'cancel' | 'retry' | 'get'; owner: string; id: string }
  | { op: 'tick'; ms: number }
  | { op: 'recover' | 'flush' }
  | { op: 'replay'; owner: string; since: number };

const jobRef = (...pools: JobRef['pool'][]) =>
  fc.record({ pool: fc.constantFrom(...pools), n: fc.nat(1000) });
/** Worker calls mostly aim at running jobs; cancel at active ones; retry at finished ones. */
const workerJob = jobRef('running', 'running', 'running', 'running', 'running', 'active', 'any');
const tokenRef = fc.record({
  pick: fc.constantFrom<TokenRef['pick']>(...Array<'current'>(8).fill('current'), 'stale', 'other', 'bogus'),
  n: fc.nat(1000),
});
const ownerRef = fc.constantFrom<OwnerRef>('own', 'own', 'own', 'own', 'own', 'other');
const leaseMs = fc.constantFrom(undefined, 500, 1_000, 20_000);
const progressValue = fc.oneof(
  { weight: 10, arbitrary: fc.integer({ min: 0, max: 100 }) },
  { weight: 2, arbitrary: fc.constantFrom(0.5, 12.5, 99.99) },
  { weight: 2, arbitrary: fc.constant<'same'>('same') },
  { weight: 1, arbitrary: fc.constant(null) },
  { weight: 1, arbitrary: fc.constant(undefined) },
  {
    weight: 2,
    arbitrary: fc.constantFrom(-1, -0.001, 100.01, 101, 1e9, Number.NaN, Number.POSITIVE_INFINITY),
  },
);

const create = fc.record({
  op: fc.constant('create' as const),
  owner: fc.nat(OWNERS.length - 1),
  type: fc.nat(TYPES.length - 1),
  scope: fc.nat(SCOPES.length - 1),
  input: fc.nat(INPUTS.length - 1),
  dedupe: fc.constantFrom(undefined, undefined, true, false),
  maxAttempts: fc.constantFrom(undefined, 1, 3),
  key: fc.constantFrom(undefined, undefined, undefined, 'key-1', 'key-2'),
});
const claim = fc.record({
  op: fc.constant('claim' as const),
  types: fc.nat(CLAIM_TYPES.length - 1),
  leaseMs,
});
const progress = fc.record({
  op: fc.constant('progress' as const),
  job: workerJob,
  token: tokenRef,
  progress: progressValue,
  message: fc.constantFrom(undefined, undefined, null, 'Drafting', 'Checking'),
  leaseMs,
});
const heartbeat = fc.record({
  op: fc.constant('heartbeat' as const),
  job: workerJob,
  token: tokenRef,
  leaseMs,
});
const complete = fc.record({
  op: fc.constant('complete' as const),
  job: workerJob,
  token: tokenRef,
  result: fc.nat(RESULTS.length - 1),
});
const fail = fc.record({
  op: fc.constant('fail' as const),
  job: workerJob,
  token: tokenRef,
  error: fc.nat(ERRORS.length - 1),
});
const release = fc.record({ op: fc.constant('release' as const), job: workerJob, token: tokenRef });
const cancel = fc.record({
  op: fc.constant('cancel' as const),
  job: jobRef('active', 'active', 'any'),
  owner: ownerRef,
});
const retry = fc.record({
  op: fc.constant('retry' as const),
  job: jobRef('finished', 'finished', 'finished', 'any'),
  owner: ownerRef,
});
const get = fc.record({ op: fc.constant('get' as const), job: jobRef('any'), owner: ownerRef });
const tick = fc.record({ op: fc.constant('tick' as const), ms: fc.integer({ min: 1, max: 12_000 }) });
const recover = fc.constant({ op: 'recover' as const });
const flush = fc.constant({ op: 'flush' as const });
const replay = fc.record({
  op: fc.constant('replay' as const),
  owner: fc.nat(OWNERS.length - 1),
  since: fc.nat(1000),
});

/** Calls that may run two at once: each is one turn of the engine's lock (or none), so some order explains them. */
const concurrent: fc.Arbitrary<Template> = fc.oneof(
  { weight: 3, arbitrary: create },
  { weight: 3, arbitrary: claim },
  { weight: 4, arbitrary: progress },
  { weight: 1, arbitrary: heartbeat },
  { weight: 3, arbitrary: complete },
  { weight: 2, arbitrary: fail },
  { weight: 2, arbitrary: release },
  { weight: 3, arbitrary: cancel },
  { weight: 2, arbitrary: retry },
  { weight: 2, arbitrary: flush },
  { weight: 1, arbitrary: replay },
);

const template: fc.Arbitrary<Template> = fc.oneof(
  { weight: 16, arbitrary: create },
  { weight: 16, arbitrary: claim },
  { weight: 20, arbitrary: progress },
  { weight: 2, arbitrary: heartbeat },
  { weight: 6, arbitrary: complete },
  { weight: 4, arbitrary: fail },
  { weight: 3, arbitrary: release },
  { weight: 4, arbitrary: cancel },
  { weight: 4, arbitrary: retry },
  { weight: 2, arbitrary: get },
  { weight: 3, arbitrary: tick },
  { weight: 3, arbitrary: recover },
  { weight: 3, arbitrary: flush },
  { weight: 3, arbitrary: replay },
  { weight: 4, arbitrary: fc.constant({ op: 'repeat' as const }) },
  {
    weight: 8,
    arbitrary: fc.record({
      op: fc.constant('pair' as const),
      first: concurrent,
      // undefined: the same call twice at once.
      second: fc.option(concurrent, { nil: undefined, freq: 3 }),
    }),
  },
);

/** A few jobs first (steps on no job at all teach little), then anything. */
const sequence: fc.Arbitrary<Template[]> = fc
  .tuple(
    fc.array(create, { minLength: 1, maxLength: 4 }),
    fc.array(template, { minLength: 6, maxLength: MAX_STEPS - 4, size: 'max' }),
  )
  .map(([first, then]) => [...first, ...then]);

// ---- the reference model -----------------------------------------------------------------------------

interface ModelJob {
  id: string;
  owner: string;
  type: string;
  scope: string | null;
  input: JsonValue | null;
  activeKey: string | null;
  status: JobStatus;
  progress: number | null;
  message: string | null;
  attempt: number;
  maxAttempts: number;
  version: number;
  leaseToken: string | null;
  leaseExpiresAt: number | null;
  /** Every lease token this job was ever claimed with. */
  tokens: string[];
}

interface Model {
  now: number;
  /** In creation order, which is the order `claim` hands pending jobs out in. */
  jobs: ModelJob[];
  idempotency: Map<string, { hash: string; jobId: string }>;
}

/** What the model says one call does. Ids of jobs it creates are placeholders until the call answers. */
interface Expect {
  refuse?: { status: number; code: string };
  result:
    | { kind: 'job'; id: string; version: number; status: JobStatus }
    | { kind: 'create'; created: boolean; reason?: string; id: string; version: number }
    | { kind: 'claim'; id: string | null; version: number }
    | { kind: 'lease'; leaseExpiresAt: number }
    | { kind: 'count'; count: number }
    | { kind: 'none' };
  events: ExpectedEvent[];
}

interface ExpectedEvent {
  jobId: string;
  owner: string;
  version: number;
  status: JobStatus;
  progress: number | null;
  attempt: number;
  message: string | null;
}

const placeholderId = (slot: number) => `(new job of call ${slot})`;
const placeholderToken = (slot: number) => `(lease of call ${slot})`;
const refused = (status: number, code: string): Expect => ({
  refuse: { status, code },
  result: { kind: 'none' },
  events: [],
});
const eventOf = (job: ModelJob): ExpectedEvent => ({
  jobId: job.id,
  owner: job.owner,
  version: job.version,
  status: job.status,
  progress: job.progress,
  attempt: job.attempt,
  message: job.message,
});
const jobResult = (job: ModelJob): Expect['result'] => ({
  kind: 'job',
  id: job.id,
  version: job.version,
  status: job.status,
});
/** A visible change: the next version and its event. */
const bump = (job: ModelJob, change: Partial<ModelJob>): Expect => {
  Object.assign(job, change);
  job.version++;
  return { result: jobResult(job), events: [eventOf(job)] };
};
const leaseless = { leaseToken: null, leaseExpiresAt: null } as const;
const find = (model: Model, id: string) => model.jobs.find((job) => job.id === id);

function predictCreate(
  model: Model,
  owner: string,
  input: CreateJobInput,
  key: string | undefined,
  slot: number,
): Expect {
  const { type, scope = null, dedupe, maxAttempts } = input;
  const hash = JSON.stringify([
    type,
    scope,
    input.input === undefined ? '(none)' : input.input,
    dedupe ?? '(none)',
    maxAttempts ?? '(none)',
  ]);
  const keyOf = `${owner}\u0000${key}`;
  if (key !== undefined) {
    const seen = model.idempotency.get(keyOf);
    if (seen) {
      if (seen.hash !== hash) return refused(422, 'idempotency_key_reused');
      const job = find(model, seen.jobId);
      assert.ok(job, 'model: an idempotency key names a job it knows');
      return {
        result: {
          kind: 'create',
          created: false,
          reason: 'idempotency_key',
          id: job.id,
          version: job.version,
        },
        events: [],
      };
    }
  }
  const activeKey = dedupe === false ? null : `${type}\u0000${scope ?? ''}`;
  const existing =
    activeKey === null
      ? undefined
      : model.jobs.find((job) => job.owner === owner && job.activeKey === activeKey);
  if (existing) {
    if (key !== undefined) model.idempotency.set(keyOf, { hash, jobId: existing.id });
    return {
      result: {
        kind: 'create',
        created: false,
        reason: 'active_duplicate',
        id: existing.id,
        version: existing.version,
      },
      events: [],
    };
  }
  const job: ModelJob = {
    id: placeholderId(slot),
    owner,
    type,
    scope,
    input: input.input ?? null,
    activeKey,
    status: 'pending',
    progress: null,
    message: null,
    attempt: 0,
    maxAttempts: maxAttempts ?? DEFAULT_MAX_ATTEMPTS,
    version: 1,
    ...leaseless,
    tokens: [],
  };
  model.jobs.push(job);
  if (key !== undefined) model.idempotency.set(keyOf, { hash, jobId: job.id });
  return { result: { kind: 'create', created: true, id: job.id, version: 1 }, events: [eventOf(job)] };
}

/** The fence every worker call passes first: the job exists, is not cancelled, and the lease is current. */
function leaseHolder(model: Model, id: string, token: string): ModelJob | Expect {
  const job = find(model, id);
  if (!job) return refused(404, 'not_found');
  if (job.status === 'cancelled') return refused(409, 'job_cancelled');
  if (job.leaseToken === null || job.leaseToken !== token) return refused(409, 'lease_lost');
  assert.equal(job.status, 'running', 'model: only a running job holds a lease');
  return job;
}
const isExpect = (value: ModelJob | Expect): value is Expect => 'events' in value;

/** Applies one call to the model (in place) and says what the engine must answer and publish. */
function predict(model: Model, call: Call, slot: number): Expect {
  switch (call.op) {
    case 'create':
      return predictCreate(model, call.owner, call.input, call.key, slot);
    case 'claim': {
      const job = model.jobs.find((j) => j.status === 'pending' && call.types.includes(j.type));
      if (!job) return { result: { kind: 'claim', id: null, version: 0 }, events: [] };
      const expect = bump(job, {
        status: 'running',
        attempt: job.attempt + 1,
        progress: null,
        message: null,
        leaseToken: placeholderToken(slot),
        leaseExpiresAt: model.now + (call.leaseMs ?? DEFAULT_LEASE_MS),
      });
      return { ...expect, result: { kind: 'claim', id: job.id, version: job.version } };
    }
    case 'progress': {
      const job = leaseHolder(model, call.id, call.token);
      if (isExpect(job)) return job;
      const { progress: p, message } = call.update;
      let nextProgress = job.progress;
      if (p !== undefined) {
        if (p !== null && !(Number.isFinite(p) && p >= 0 && p <= 100)) {
          return refused(409, 'progress_out_of_range');
        }
        if (job.progress !== null && (p === null || p < job.progress))
          return refused(409, 'progress_decreased');
        nextProgress = p;
      }
      const nextMessage = message === undefined ? job.message : message;
      job.leaseExpiresAt = model.now + (call.update.leaseMs ?? DEFAULT_LEASE_MS);
      if (nextProgress === job.progress && nextMessage === job.message) {
        return { result: jobResult(job), events: [] };
      }
      return bump(job, { progress: nextProgress, message: nextMessage });
    }
    case 'heartbeat': {
      const leaseExpiresAt = model.now + (call.leaseMs ?? DEFAULT_LEASE_MS);
      const job = leaseHolder(model, call.id, call.token);
      if (isExpect(job)) return job;
      job.leaseExpiresAt = leaseExpiresAt;
      return { result: { kind: 'lease', leaseExpiresAt }, events: [] };
    }
    case 'complete': {
      const job = leaseHolder(model, call.id, call.token);
      if (isExpect(job)) return job;
      return bump(job, { ...leaseless, status: 'completed', progress: 100, activeKey: null });
    }
    case 'fail': {
      const job = leaseHolder(model, call.id, call.token);
      if (isExpect(job)) return job;
      return bump(job, { ...leaseless, status: 'failed', activeKey: null });
    }
    case 'release': {
      const job = leaseHolder(model, call.id, call.token);
      if (isExpect(job)) return job;
      return bump(job, {
        ...leaseless,
        status: 'pending',
        progress: null,
        attempt: Math.max(0, job.attempt - 1),
      });
    }
    case 'cancel': {
      const job = find(model, call.id);
      if (!job || job.owner !== call.owner) return refused(404, 'not_found');
      if (job.status === 'cancelled') return { result: jobResult(job), events: [] };
      if (!isActive(job.status)) return refused(409, 'invalid_transition');
      return bump(job, { ...leaseless, status: 'cancelled', activeKey: null });
    }
    case 'retry': {
      const job = find(model, call.id);
      if (!job || job.owner !== call.owner) return refused(404, 'not_found');
      if (job.status !== 'failed' && job.status !== 'cancelled') return refused(409, 'invalid_transition');
      const input: CreateJobInput = {
        type: job.type,
        scope: job.scope,
        input: job.input,
        maxAttempts: job.maxAttempts,
      };
      return predictCreate(model, call.owner, input, undefined, slot);
    }
    case 'get': {
      const job = find(model, call.id);
      if (!job || job.owner !== call.owner) return refused(404, 'not_found');
      return { result: jobResult(job), events: [] };
    }
    case 'recover': {
      const events: ExpectedEvent[] = [];
      for (const job of model.jobs) {
        if (job.status !== 'running' || job.leaseExpiresAt === null || job.leaseExpiresAt > model.now)
          continue;
        const change: Partial<ModelJob> =
          job.attempt < job.maxAttempts
            ? { ...leaseless, status: 'pending', progress: null, message: REQUEUE_MESSAGE }
            : { ...leaseless, status: 'failed', activeKey: null };
        events.push(...bump(job, change).events);
      }
      return { result: { kind: 'count', count: events.length }, events };
    }
    case 'tick':
      model.now += call.ms;
      return { result: { kind: 'none' }, events: [] };
    case 'flush':
    case 'replay':
      return { result: { kind: 'none' }, events: [] };
  }
}

/** Gives the jobs and leases a call made their real ids and tokens, once it has answered. */
function bind(model: Model, slot: number, outcome: Outcome): void {
  if (!outcome.ok) return;
  const placeholder = placeholderId(slot);
  const created = model.jobs.find((job) => job.id === placeholder);
  if (created) {
    const id = (outcome.value as CreateJobResponse).job.id;
    created.id = id;
    for (const seen of model.idempotency.values()) if (seen.jobId === placeholder) seen.jobId = id;
  }
  const claimed = model.jobs.find((job) => job.leaseToken === placeholderToken(slot));
  if (claimed) {
    const token = (outcome.value as ClaimedJob).leaseToken;
    claimed.leaseToken = token;
    claimed.tokens.push(token);
  }
}

// ---- one run: the engine, what it published, and the checks ----------------------------------------

type Outcome = { ok: true; value: unknown } | { ok: false; status: number; code: string };

const stats = {
  sequences: 0,
  steps: 0,
  calls: 0,
  accepted: 0,
  unchanged: 0,
  refused: 0,
  events: 0,
  pairs: 0,
  pairsReordered: 0,
  flushChecks: 0,
  replays: 0,
  byRefusal: new Map<string, number>(),
  ms: 0,
};

// Each sequence gets a fresh SQLite file (WAL, a pool of connections, as in production); on tmpfs when
// there is one, since fsync costs are not what this test measures.
const dir = mkdtempSync(join(existsSync('/dev/shm') ? '/dev/shm' : tmpdir(), 'jobtracker-state-machine-'));
after(() => rmSync(dir, { recursive: true, force: true }));
let files = 0;

const show = (value: unknown) =>
  JSON.stringify(value, (_key, v: unknown) => (typeof v === 'number' && !Number.isFinite(v) ? String(v) : v));

class Run {
  readonly model: Model;
  readonly #engine: JobEngine;
  readonly #store: SqliteStore;
  readonly #clock: { now: number };
  readonly #startCursor: number;
  /** Every event the hub published to the owners' subscribers, in the order it did. */
  readonly published: LiveEvent[] = [];
  /** Wire JSON of every (job, version) published. */
  readonly #data = new Map<string, string>();
  readonly #latest = new Map<string, Job>();
  readonly #ownerOf = new Map<string, string>();
  readonly #violations: string[] = [];
  readonly #engineErrors: unknown[];
  readonly trace: string[] = [];
  #lastCursor: number;
  #lastBatch: Call[] = [];

  constructor(engine: JobEngine, store: SqliteStore, clock: { now: number }, errors: unknown[]) {
    this.#engine = engine;
    this.#store = store;
    this.#clock = clock;
    this.#engineErrors = errors;
    this.model = { now: clock.now, jobs: [], idempotency: new Map() };
    this.#startCursor = engine.cursor;
    this.#lastCursor = engine.cursor;
    for (const owner of OWNERS) engine.hub.subscribe(owner, (event) => this.#observe(owner, event));
  }

  /** Invariants every published event must keep, whatever the model says. */
  #observe(owner: string, event: LiveEvent): void {
    this.published.push(event);
    stats.events++;
    const violation = (what: string) => this.#violations.push(`${what}: event ${show(event)}`);
    if (event.ownerId !== owner) violation(`delivered to ${owner}`);
    if (!(event.cursor > this.#lastCursor)) violation(`cursor not above the previous ${this.#lastCursor}`);
    this.#lastCursor = Math.max(this.#lastCursor, event.cursor);
    let job: Job;
    try {
      job = JSON.parse(event.data) as Job;
    } catch {
      violation('data is not JSON');
      return;
    }
    if (job.id !== event.jobId || job.version !== event.version) violation('data is another job or version');
    const key = `${event.jobId}#${event.version}`;
    if (this.#data.has(key)) violation('a second event for one (job, version)');
    this.#data.set(key, event.data);
    const previous = this.#latest.get(event.jobId);
    if (!previous) {
      if (job.version !== 1 || job.status !== 'pending')
        violation('the first event of a job is not its creation');
      this.#ownerOf.set(event.jobId, event.ownerId);
    } else {
      if (this.#ownerOf.get(event.jobId) !== event.ownerId) violation('the job changed owner');
      if (TERMINAL.includes(previous.status)) violation(`a ${previous.status} job changed`);
      if (job.version !== previous.version + 1)
        violation(`version ${previous.version} was followed by ${job.version}`);
      if (
        previous.status === 'running' &&
        job.status !== 'pending' &&
        job.attempt === previous.attempt &&
        previous.progress !== null &&
        (job.progress === null || job.progress < previous.progress)
      ) {
        violation(`progress went from ${previous.progress} to ${job.progress} within attempt ${job.attempt}`);
      }
    }
    this.#latest.set(event.jobId, job);
  }

  #resolveJob(ref: JobRef): ModelJob | undefined {
    const inPool = (job: ModelJob) =>
      ref.pool === 'any' ||
      (ref.pool === 'running' && job.status === 'running') ||
      (ref.pool === 'active' && isActive(job.status)) ||
      (ref.pool === 'finished' && !isActive(job.status));
    const chosen = this.model.jobs.filter(inPool);
    const pool = chosen.length > 0 ? chosen : this.model.jobs;
    return pool[ref.n % Math.max(1, pool.length)];
  }

  #resolveToken(job: ModelJob | undefined, ref: TokenRef): string {
    const current = job?.leaseToken ?? job?.tokens.at(-1) ?? NEVER_ISSUED;
    const pickFrom = (tokens: string[]) => tokens[ref.n % Math.max(1, tokens.length)] ?? NEVER_ISSUED;
    switch (ref.pick) {
      case 'current':
        return current;
      case 'stale':
        return pickFrom(job?.tokens.filter((token) => token !== job.leaseToken) ?? []);
      case 'other':
        return pickFrom(this.model.jobs.filter((other) => other !== job).flatMap((other) => other.tokens));
      case 'bogus':
        return NEVER_ISSUED;
    }
  }

  #resolveOwner(job: ModelJob | undefined, ref: OwnerRef): string {
    const own = job?.owner ?? OWNERS[0];
    if (ref === 'own') return own;
    return OWNERS[(OWNERS.indexOf(own as (typeof OWNERS)[number]) + 1) % OWNERS.length] ?? own;
  }

  #resolve(t: Exclude<Template, { op: 'repeat' | 'pair' }>): Call {
    switch (t.op) {
      case 'create': {
        const input: CreateJobInput = { type: TYPES[t.type] ?? 'gen', scope: SCOPES[t.scope] ?? null };
        const value = INPUTS[t.input];
        if (value !== undefined) input.input = value;
        if (t.dedupe !== undefined) input.dedupe = t.dedupe;
        if (t.maxAttempts !== undefined) input.maxAttempts = t.maxAttempts;
        return { op: 'create', owner: OWNERS[t.owner] ?? 'alice', input, key: t.key };
      }
      case 'claim':
        return { op: 'claim', types: CLAIM_TYPES[t.types] ?? ['gen'], leaseMs: t.leaseMs };
      case 'progress': {
        const job = this.#resolveJob(t.job);
        const update: { progress?: number | null; message?: string | null; leaseMs?: number } = {};
        if (t.progress === 'same') update.progress = job?.progress ?? null;
        else if (t.progress !== undefined) update.progress = t.progress;
        if (t.message !== undefined) update.message = t.message;
        if (t.leaseMs !== undefined) update.leaseMs = t.leaseMs;
        return { op: 'progress', id: job?.id ?? MISSING_ID, token: this.#resolveToken(job, t.token), update };
      }
      case 'heartbeat':
      case 'release': {
        const job = this.#resolveJob(t.job);
        const base = { id: job?.id ?? MISSING_ID, token: this.#resolveToken(job, t.token) };
        return t.op === 'heartbeat'
          ? { op: 'heartbeat', ...base, leaseMs: t.leaseMs }
          : { op: 'release', ...base };
      }
      case 'complete': {
        const job = this.#resolveJob(t.job);
        const token = this.#resolveToken(job, t.token);
        return { op: 'complete', id: job?.id ?? MISSING_ID, token, result: RESULTS[t.result] ?? null };
      }
      case 'fail': {
        const job = this.#resolveJob(t.job);
        const token = this.#resolveToken(job, t.token);
        return {
          op: 'fail',
          id: job?.id ?? MISSING_ID,
          token,
          error: ERRORS[t.error] ?? { message: 'boom' },
        };
      }
      case 'cancel':
      case 'retry':
      case 'get': {
        const job = this.#resolveJob(t.job);
        return { op: t.op, owner: this.#resolveOwner(job, t.owner), id: job?.id ?? MISSING_ID };
      }
      case 'tick':
        return { op: 'tick', ms: t.ms };
      case 'recover':
      case 'flush':
        return { op: t.op };
      case 'replay': {
        // Since: 0 (nothing), in the range a crash would have lost, past the newest cursor, the start of
        // the log, or any cursor published so far (any owner's).
        const choices = [
          0,
          this.#startCursor - 1,
          this.#engine.cursor + 1_000_000,
          this.#startCursor,
          ...this.published.map((event) => event.cursor),
        ];
        return {
          op: 'replay',
          owner: OWNERS[t.owner] ?? 'alice',
          since: choices[t.since % choices.length] ?? 0,
        };
      }
    }
  }

  async #invoke(call: Call): Promise<Outcome> {
    const engine = this.#engine;
    try {
      const value = await (async (): Promise<unknown> => {
        switch (call.op) {
          case 'create':
            return engine.create(call.owner, call.input, call.key);
          case 'claim': {
            const options = { types: call.types, workerId: 'worker' };
            return engine.claim(call.leaseMs === undefined ? options : { ...options, leaseMs: call.leaseMs });
          }
          case 'progress':
            return engine.progress(call.id, call.token, call.update);
          case 'heartbeat':
            return engine.heartbeat(call.id, call.token, call.leaseMs);
          case 'complete':
            return engine.complete(call.id, call.token, call.result);
          case 'fail':
            return engine.fail(call.id, call.token, call.error);
          case 'release':
            return engine.release(call.id, call.token);
          case 'cancel':
            return engine.cancel(call.owner, call.id);
          case 'retry':
            return engine.retry(call.owner, call.id);
          case 'get':
            return engine.get(call.owner, call.id);
          case 'recover':
            return engine.recoverExpiredLeases();
          case 'tick':
            this.#clock.now += call.ms;
            return null;
          case 'flush':
            return engine.flush();
          case 'replay':
            return engine.changesSince(call.owner, call.since);
        }
      })();
      return { ok: true, value };
    } catch (error) {
      // A refusal is an answer; anything else (a 5xx, a crash) is a defect.
      if (error instanceof ApiError && error.status < 500)
        return { ok: false, status: error.status, code: error.code };
      throw new Error(
        `${show(call)} threw ${error instanceof ApiError ? `${error.status} ${error.code}` : ''}`,
        {
          cause: error,
        },
      );
    }
  }

  /** Why the answers and events differ from the model's expectation, or null when they agree. */
  #mismatch(
    calls: readonly Call[],
    order: readonly number[],
    expects: Expect[],
    outcomes: Outcome[],
    events: LiveEvent[],
  ) {
    const ids = new Map<string, string>();
    for (const [i, slot] of order.entries()) {
      const expect = expects[i];
      const outcome = outcomes[slot];
      if (expect?.result.kind === 'create' && expect.result.created && outcome?.ok) {
        ids.set(placeholderId(slot), (outcome.value as CreateJobResponse).job.id);
      }
    }
    const real = (id: string) => ids.get(id) ?? id;
    const problems: string[] = [];
    for (const [i, slot] of order.entries()) {
      const expect = expects[i];
      const outcome = outcomes[slot];
      const call = calls[slot];
      if (!expect || !outcome || !call) continue;
      const say = (what: string) => problems.push(`${call.op} (${show(call)}): ${what}`);
      if (expect.refuse) {
        if (outcome.ok) say(`accepted, expected ${expect.refuse.status} ${expect.refuse.code}`);
        else if (outcome.status !== expect.refuse.status || outcome.code !== expect.refuse.code) {
          say(
            `refused ${outcome.status} ${outcome.code}, expected ${expect.refuse.status} ${expect.refuse.code}`,
          );
        }
        continue;
      }
      if (!outcome.ok) {
        say(`refused ${outcome.status} ${outcome.code}, expected ${show(expect.result)}`);
        continue;
      }
      const result = expect.result;
      const value = outcome.value;
      const got = (fields: unknown[]) => fields;
      switch (result.kind) {
        case 'job': {
          const job = value as Job;
          if (
            !isDeepStrictEqual(got([job.id, job.version, job.status]), [
              real(result.id),
              result.version,
              result.status,
            ])
          )
            say(`answered ${show([job.id, job.version, job.status])}, expected ${show(result)}`);
          break;
        }
        case 'create': {
          const response = value as CreateJobResponse;
          const actual = [response.created, response.reason, response.job.id, response.job.version];
          if (!isDeepStrictEqual(actual, [result.created, result.reason, real(result.id), result.version]))
            say(`answered ${show(actual)}, expected ${show(result)}`);
          if (result.created && this.model.jobs.some((job) => job.id === response.job.id))
            say('a new job got the id of an existing one');
          break;
        }
        case 'claim': {
          const claimed = value as ClaimedJob | null;
          const actual = claimed ? [claimed.job.id, claimed.job.version] : null;
          if (!isDeepStrictEqual(actual, result.id === null ? null : [real(result.id), result.version]))
            say(`claimed ${show(actual)}, expected ${show(result)}`);
          break;
        }
        case 'lease':
          if ((value as { leaseExpiresAt: number }).leaseExpiresAt !== result.leaseExpiresAt)
            say(`lease until ${show(value)}, expected ${result.leaseExpiresAt}`);
          break;
        case 'count':
          if (value !== result.count) say(`recovered ${show(value)}, expected ${result.count}`);
          break;
        case 'none':
          break;
      }
    }
    const expected = order
      .flatMap((_, i) => expects[i]?.events ?? [])
      .map((e) => ({ ...e, jobId: real(e.jobId) }));
    const actual = events.map((event): ExpectedEvent => {
      const job = JSON.parse(event.data) as Job;
      return {
        jobId: event.jobId,
        owner: event.ownerId,
        version: event.version,
        status: job.status,
        progress: job.progress,
        attempt: job.attempt,
        message: job.message,
      };
    });
    const same =
      expected.length === actual.length &&
      expected.every((e, i) => {
        const a = actual[i];
        return (
          a !== undefined &&
          isDeepStrictEqual(e, e.message === REQUEUE_MESSAGE ? { ...a, message: e.message } : a)
        );
      });
    if (!same) problems.push(`published ${show(actual)}, expected ${show(expected)}`);
    return problems.length === 0 ? null : problems.join('\n    ');
  }

  async step(t: Template): Promise<void> {
    stats.steps++;
    let calls: Call[];
    if (t.op === 'repeat') calls = this.#lastBatch;
    else if (t.op === 'pair') {
      const first = this.#resolve(t.first as Exclude<Template, { op: 'repeat' | 'pair' }>);
      const second =
        t.second === undefined
          ? first
          : this.#resolve(t.second as Exclude<Template, { op: 'repeat' | 'pair' }>);
      calls = [first, second];
    } else calls = [this.#resolve(t)];
    if (calls.length === 0) return;
    this.#lastBatch = calls;
    await this.#batch(calls);
  }

  /** Runs the calls at once; some order of them must be what the model predicts, and every check must hold. */
  async #batch(calls: Call[]): Promise<void> {
    const from = this.published.length;
    const cursorBefore = this.#engine.cursor;
    const outcomes = await Promise.all(calls.map((call) => this.#invoke(call)));
    const events = this.published.slice(from);
    const orders =
      calls.length === 1
        ? [[0]]
        : [
            [0, 1],
            [1, 0],
          ];
    const mismatches: string[] = [];
    let matched: number[] | null = null;
    for (const order of orders) {
      const model = structuredClone(this.model);
      const expects = order.map((slot) => predict(model, calls[slot] as Call, slot));
      const mismatch = this.#mismatch(calls, order, expects, outcomes, events);
      if (mismatch) {
        mismatches.push(`in the order ${order.join(', ')}:\n    ${mismatch}`);
        continue;
      }
      for (const slot of order) bind(model, slot, outcomes[slot] as Outcome);
      Object.assign(this.model, model);
      matched = order;
      break;
    }
    const line = `${calls.length > 1 ? 'at once: ' : ''}${calls
      .map((call, slot) => {
        const outcome = outcomes[slot] as Outcome;
        return `${show(call)} -> ${outcome.ok ? 'ok' : `${outcome.status} ${outcome.code}`}`;
      })
      .join(
        ' | ',
      )} -> events ${show(events.map((e) => [e.jobId.slice(-6), e.version, (JSON.parse(e.data) as Job).status]))}`;
    this.trace.push(line);
    this.#checkInvariants();
    if (!matched) this.#fail(`the engine disagrees with the model\n  ${mismatches.join('\n  ')}`);
    if (calls.length > 1) {
      stats.pairs++;
      if (matched?.[0] === 1) stats.pairsReordered++;
    }
    for (const outcome of outcomes) {
      stats.calls++;
      if (outcome.ok) stats.accepted++;
      else {
        stats.refused++;
        const key = `${outcome.status} ${outcome.code}`;
        stats.byRefusal.set(key, (stats.byRefusal.get(key) ?? 0) + 1);
      }
    }
    const visible = new Set(events.map((event) => event.jobId));
    for (const [slot, call] of calls.entries()) {
      const outcome = outcomes[slot];
      if (!outcome?.ok || !['progress', 'heartbeat', 'cancel', 'create', 'retry'].includes(call.op)) continue;
      const id = 'id' in call ? call.id : (outcome.value as CreateJobResponse).job.id;
      if (!visible.has(id)) stats.unchanged++;
    }
    await this.#checkAnswers(calls, outcomes, cursorBefore);
    await this.#checkViews(
      new Set([...visible, ...calls.flatMap((call) => ('id' in call ? [call.id] : []))]),
    );
    if (calls.length === 1 && calls[0]?.op === 'flush') await this.checkDurable();
  }

  #fail(message: string): never {
    throw new Error(`${message}\n  steps run (last 40):\n    ${this.trace.slice(-40).join('\n    ')}`);
  }

  #checkInvariants(): void {
    if (this.#violations.length > 0) this.#fail(`invariants broken:\n    ${this.#violations.join('\n    ')}`);
    if (this.#engineErrors.length > 0)
      this.#fail(`the engine reported errors: ${this.#engineErrors.map(String).join('; ')}`);
    if (this.#engine.cursor !== this.#lastCursor)
      this.#fail(`the engine's cursor ${this.#engine.cursor} is not the last published ${this.#lastCursor}`);
  }

  #published(owner: string, since: number, upTo: number): LiveEvent[] {
    return this.published.filter((e) => e.ownerId === owner && e.cursor > since && e.cursor <= upTo);
  }

  /** A job a call answered with is the one published at its version; a replay is exactly what was published. */
  async #checkAnswers(calls: Call[], outcomes: Outcome[], cursorBefore: number): Promise<void> {
    for (const [slot, call] of calls.entries()) {
      const outcome = outcomes[slot];
      if (!outcome?.ok || outcome.value === null || outcome.value === undefined) continue;
      const jobs: Job[] = [];
      if (call.op === 'create' || call.op === 'retry') jobs.push((outcome.value as CreateJobResponse).job);
      else if (call.op === 'claim') jobs.push((outcome.value as ClaimedJob).job);
      else if (['progress', 'complete', 'fail', 'release', 'cancel', 'get'].includes(call.op))
        jobs.push(outcome.value as Job);
      for (const job of jobs) {
        const data = this.#data.get(`${job.id}#${job.version}`);
        if (data === undefined)
          this.#fail(`${show(call)} answered version ${job.version} of ${job.id}, never published`);
        if (!isDeepStrictEqual(job, JSON.parse(data)))
          this.#fail(`${show(call)} answered ${show(job)}, but published ${data} for that version`);
      }
      if (call.op === 'claim') {
        const claimed = outcome.value as ClaimedJob;
        if (claimed.ownerId !== this.#ownerOf.get(claimed.job.id))
          this.#fail(`claim answered the wrong owner`);
      }
      if (call.op === 'replay') {
        stats.replays++;
        const changes = outcome.value as Changes;
        const upTo = changes.cursor;
        if (upTo < cursorBefore || upTo > this.#engine.cursor)
          this.#fail(`replay cursor ${upTo} outside [${cursorBefore}, ${this.#engine.cursor}]`);
        const reset = call.since === 0 || call.since < this.#startCursor || call.since > upTo;
        const expected = reset ? [] : this.#published(call.owner, call.since, upTo);
        if (changes.reset !== reset || !isDeepStrictEqual(changes.events, expected)) {
          this.#fail(
            `${show(call)} replayed reset=${changes.reset} ${show(changes.events.map((e) => [e.cursor, e.jobId, e.version]))}, ` +
              `expected reset=${reset} ${show(expected.map((e) => [e.cursor, e.jobId, e.version]))}`,
          );
        }
      }
    }
  }

  /** The engine's view of the jobs equals the last published version, and the model's. */
  async #checkViews(touched: Set<string>): Promise<void> {
    for (const job of this.model.jobs) {
      if (!touched.has(job.id) && !isActive(job.status)) continue;
      await this.#checkView(job);
    }
  }

  async #checkView(job: ModelJob): Promise<Job> {
    const view = await this.#engine.get(job.owner, job.id);
    const latest = this.#latest.get(job.id);
    if (!isDeepStrictEqual(view, latest))
      this.#fail(`engine.get answers ${show(view)} but the last published version is ${show(latest)}`);
    const modelled = [job.status, job.version, job.progress, job.attempt];
    if (!isDeepStrictEqual([view.status, view.version, view.progress, view.attempt], modelled))
      this.#fail(`engine.get answers ${show(view)}, the model has ${show(modelled)}`);
    return view;
  }

  /** After a flush: the database holds what the engine holds, and the log replays exactly what was published. */
  async checkDurable(): Promise<void> {
    stats.flushChecks++;
    for (const job of this.model.jobs) {
      const row = await this.#store.getJob(job.id);
      if (isActive(job.status)) {
        // The engine holds active jobs in memory: its record must be what the database now has.
        await this.#checkView(job);
        const record = await this.#engine.getRecord(job.id);
        if (!isDeepStrictEqual(row, record))
          this.#fail(`after a flush the database has ${show(row)}, the engine ${show(record)}`);
      } else {
        // A finished job is read from the database: its row must be the last version published.
        const wire = row && toWireJob(row);
        if (!isDeepStrictEqual(wire, this.#latest.get(job.id)) || wire?.status !== job.status)
          this.#fail(
            `after a flush the database has ${show(row)}, published ${show(this.#latest.get(job.id))}`,
          );
      }
    }
    const upTo = this.#engine.cursor;
    for (const owner of OWNERS) {
      const published = this.#published(owner, 0, upTo);
      const logged = (await this.#store.eventsAfter(owner, 0, Number.MAX_SAFE_INTEGER, 1_000_000)).map(
        ({ cursor, ownerId, jobId, version, data }): LiveEvent => ({ cursor, ownerId, jobId, version, data }),
      );
      if (!isDeepStrictEqual(logged, published))
        this.#fail(
          `the log of ${owner} after a flush differs from what was published: ${show(logged.map((e) => [e.cursor, e.version]))}`,
        );
      for (const since of [this.#startCursor, published[Math.floor(published.length / 2)]?.cursor ?? upTo]) {
        const changes = await this.#engine.changesSince(owner, since);
        const expected = { events: this.#published(owner, since, upTo), cursor: upTo, reset: false };
        if (!isDeepStrictEqual(changes, expected))
          this.#fail(
            `changesSince(${owner}, ${since}) after a flush is ${show(changes)}, expected ${show(expected)}`,
          );
      }
      const fromZero = await this.#engine.changesSince(owner, 0);
      if (!fromZero.reset || fromZero.events.length > 0)
        this.#fail(`changesSince(${owner}, 0) is not a reset`);
      const mine = this.model.jobs.filter((job) => job.owner === owner);
      const listed = await this.#engine.list(owner, { limit: 1000 });
      const expectedList = mine.map((job) => this.#latest.get(job.id));
      const byId = (a: Job | undefined, b: Job | undefined) => ((a?.id ?? '') < (b?.id ?? '') ? -1 : 1);
      if (!isDeepStrictEqual([...listed].sort(byId), [...expectedList].sort(byId)))
        this.#fail(`engine.list(${owner}) is ${show(listed)}, expected the last published versions`);
      const snapshot = await this.#engine.snapshot(owner);
      const activeIds = mine.filter((job) => isActive(job.status)).map((job) => job.id);
      if (
        snapshot.cursor !== upTo ||
        !snapshot.jobs.every((job) => isDeepStrictEqual(job, this.#latest.get(job.id))) ||
        !activeIds.every((id) => snapshot.jobs.some((job) => job.id === id))
      )
        this.#fail(`snapshot of ${owner} is ${show(snapshot)}`);
    }
  }
}

async function runSequence(templates: Template[]): Promise<void> {
  stats.sequences++;
  const file = join(dir, `run-${files++}.db`);
  const store = new SqliteStore({ url: `file:${file}` });
  await store.migrate();
  const clock = { now: Date.UTC(2030, 0, 1) };
  const errors: unknown[] = [];
  const engine = new JobEngine({
    store,
    now: () => clock.now,
    progressFlushMs: HOUR,
    leaseCheckIntervalMs: HOUR,
    defaultLeaseMs: DEFAULT_LEASE_MS,
    defaultMaxAttempts: DEFAULT_MAX_ATTEMPTS,
    onError: (error) => errors.push(error),
  });
  await engine.start();
  const run = new Run(engine, store, clock, errors);
  try {
    for (const t of templates) await run.step(t);
    await engine.flush();
    await run.checkDurable();
  } finally {
    await engine.stop().catch(() => {});
    await store.close();
    for (const suffix of ['', '-wal', '-shm', '-journal']) rmSync(`${file}${suffix}`, { force: true });
  }
}

describe('job state machine (property-based)', () => {
  it(`keeps its invariants over ${RUNS} random command sequences`, async (t) => {
    const started = performance.now();
    const parameters: fc.Parameters<[Template[]]> = { numRuns: RUNS, seed: SEED };
    if (PATH) parameters.path = PATH;
    await fc.assert(
      fc.asyncProperty(sequence, (templates) => runSequence(templates)),
      parameters,
    );
    stats.ms = performance.now() - started;
    const refusals = [...stats.byRefusal.entries()]
      .sort((a, b) => b[1] - a[1])
      .map(([code, count]) => `${code} ×${count}`)
      .join(', ');
    t.diagnostic(
      `seed ${SEED}: ${stats.sequences} sequences (up to ${MAX_STEPS} steps), ${stats.steps} steps, ` +
        `${stats.calls} calls: ${stats.accepted} accepted (${stats.unchanged} of them changed nothing), ` +
        `${stats.refused} refused (${refusals}); ${stats.pairs} pairs at once (${stats.pairsReordered} ran in the ` +
        `other order), ${stats.events} events, ${stats.replays} replays, ${stats.flushChecks} database checks; ` +
        `${(stats.ms / 1000).toFixed(1)} s`,
    );
  });
});
