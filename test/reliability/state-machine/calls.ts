import { ApiError } from '@jobtracker/server';
import type { CreateJobInput, JobEngine, LiveEvent } from '@jobtracker/test-support/server-internals';
import {
  CLAIM_TYPES,
  ERRORS,
  INPUTS,
  type JobRef,
  OWNERS,
  type OwnerRef,
  RESULTS,
  SCOPES,
  type Template,
  type TokenRef,
  TYPES,
} from './arbitraries.js';
import { type Call, isActive, type Model, type ModelJob, type Outcome } from './model.js';
import { show } from './show.js';

// Between the generated templates and the engine: a template becomes a call aimed at the jobs the model
// has now, and a call is made on the engine, its refusal an answer and anything else a defect.

const NEVER_ISSUED = 'never-issued-lease-token';
const MISSING_ID = '0000000000zzzzzzzzzzzzzzzz';

/** A template that is one call. */
export type SingleTemplate = Exclude<Template, { op: 'repeat' | 'pair' }>;

/** What a template is resolved against. */
export interface Scene {
  model: Model;
  /** The engine's cursor when the run started. */
  startCursor: number;
  /** The engine's cursor now. */
  cursor: number;
  published: readonly LiveEvent[];
}

function resolveJob(model: Model, ref: JobRef): ModelJob | undefined {
  const inPool = (job: ModelJob) =>
    ref.pool === 'any' ||
    (ref.pool === 'running' && job.status === 'running') ||
    (ref.pool === 'active' && isActive(job.status)) ||
    (ref.pool === 'finished' && !isActive(job.status));
  const chosen = model.jobs.filter(inPool);
  const pool = chosen.length > 0 ? chosen : model.jobs;
  return pool[ref.n % Math.max(1, pool.length)];
}

function resolveToken(model: Model, job: ModelJob | undefined, ref: TokenRef): string {
  const current = job?.leaseToken ?? job?.tokens.at(-1) ?? NEVER_ISSUED;
  const pickFrom = (tokens: string[]) => tokens[ref.n % Math.max(1, tokens.length)] ?? NEVER_ISSUED;
  switch (ref.pick) {
    case 'current':
      return current;
    case 'stale':
      return pickFrom(job?.tokens.filter((token) => token !== job.leaseToken) ?? []);
    case 'other':
      return pickFrom(model.jobs.filter((other) => other !== job).flatMap((other) => other.tokens));
    case 'bogus':
      return NEVER_ISSUED;
  }
}

function resolveOwner(job: ModelJob | undefined, ref: OwnerRef): string {
  const own = job?.owner ?? OWNERS[0];
  if (ref === 'own') return own;
  return OWNERS[(OWNERS.indexOf(own as (typeof OWNERS)[number]) + 1) % OWNERS.length] ?? own;
}

export function resolveCall(t: SingleTemplate, scene: Scene): Call {
  const { model } = scene;
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
      const job = resolveJob(model, t.job);
      const update: { progress?: number | null; message?: string | null; leaseMs?: number } = {};
      if (t.progress === 'same') update.progress = job?.progress ?? null;
      else if (t.progress !== undefined) update.progress = t.progress;
      if (t.message !== undefined) update.message = t.message;
      if (t.leaseMs !== undefined) update.leaseMs = t.leaseMs;
      return { op: 'progress', id: job?.id ?? MISSING_ID, token: resolveToken(model, job, t.token), update };
    }
    case 'heartbeat':
    case 'release': {
      const job = resolveJob(model, t.job);
      const base = { id: job?.id ?? MISSING_ID, token: resolveToken(model, job, t.token) };
      return t.op === 'heartbeat'
        ? { op: 'heartbeat', ...base, leaseMs: t.leaseMs }
        : { op: 'release', ...base };
    }
    case 'complete': {
      const job = resolveJob(model, t.job);
      const token = resolveToken(model, job, t.token);
      return { op: 'complete', id: job?.id ?? MISSING_ID, token, result: RESULTS[t.result] ?? null };
    }
    case 'fail': {
      const job = resolveJob(model, t.job);
      const token = resolveToken(model, job, t.token);
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
      const job = resolveJob(model, t.job);
      return { op: t.op, owner: resolveOwner(job, t.owner), id: job?.id ?? MISSING_ID };
    }
    case 'dismiss': {
      const job = resolveJob(model, t.job);
      const owner = resolveOwner(job, t.owner);
      return { op: 'dismiss', owner, id: job?.id ?? MISSING_ID, dismissed: t.dismissed };
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
        scene.startCursor - 1,
        scene.cursor + 1_000_000,
        scene.startCursor,
        ...scene.published.map((event) => event.cursor),
      ];
      return {
        op: 'replay',
        owner: OWNERS[t.owner] ?? 'alice',
        since: choices[t.since % choices.length] ?? 0,
      };
    }
  }
}

export async function invoke(engine: JobEngine, clock: { now: number }, call: Call): Promise<Outcome> {
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
        case 'dismiss':
          return engine.dismiss(call.owner, call.id, call.dismissed);
        case 'recover':
          return engine.recoverExpiredLeases();
        case 'tick':
          clock.now += call.ms;
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
