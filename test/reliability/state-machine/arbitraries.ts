import type { JobError, JsonValue } from '@jobtracker/sdk';
import fc from 'fast-check';

// The generated steps of the state-machine property: templates, resolved against the model's state
// when they run (see calls.ts), so that a shrunk sequence still aims at jobs that exist.

export const MAX_STEPS = 40;

export const OWNERS = ['alice', 'bob', 'carol'] as const;
export const TYPES = ['gen', 'export'] as const;
export const SCOPES = [null, 'doc-1', 'doc-2'] as const;
export const INPUTS: readonly (JsonValue | undefined)[] = [undefined, null, { doc: 'd1', pages: [1, 2] }];
export const CLAIM_TYPES: readonly string[][] = [
  ['gen'],
  ['export'],
  ['gen', 'export'],
  ['gen', 'export'],
  ['gen', 'export'],
  ['unknown'],
];
export const RESULTS: readonly JsonValue[] = [null, { url: '/programs/1', summary: 'ok' }, 'done', 42];
export const ERRORS: readonly JobError[] = [
  { message: 'boom' },
  { message: 'quota exceeded', code: 'quota', retryable: true },
  { message: 'bad input', retryable: false },
];

export interface JobRef {
  /** Which jobs to pick among (all of them when none is in that state). */
  pool: 'running' | 'active' | 'finished' | 'any';
  n: number;
}
export interface TokenRef {
  pick: 'current' | 'stale' | 'other' | 'bogus';
  n: number;
}
export type OwnerRef = 'own' | 'other';

export type Template =
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
  | { op: 'dismiss'; job: JobRef; owner: OwnerRef; dismissed: boolean }
  | { op: 'tick'; ms: number }
  | { op: 'recover' }
  | { op: 'flush' }
  | { op: 'replay'; owner: number; since: number }
  | { op: 'repeat' }
  | { op: 'pair'; first: Template; second: Template | undefined };

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
/** Dismissals aim at any job (running ones run on); some bring one back, some repeat what already is. */
const dismiss = fc.record({
  op: fc.constant('dismiss' as const),
  job: jobRef('any', 'running', 'finished'),
  owner: ownerRef,
  dismissed: fc.boolean(),
});
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
  { weight: 2, arbitrary: dismiss },
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
  { weight: 3, arbitrary: dismiss },
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
export const sequence: fc.Arbitrary<Template[]> = fc
  .tuple(
    fc.array(create, { minLength: 1, maxLength: 4 }),
    fc.array(template, { minLength: 6, maxLength: MAX_STEPS - 4, size: 'max' }),
  )
  .map(([first, then]) => [...first, ...then]);
