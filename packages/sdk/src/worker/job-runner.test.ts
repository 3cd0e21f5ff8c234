import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { setTimeout as delay } from 'node:timers/promises';
import { JobTrackerHttpError } from '../errors/errors.js';
import type { Job, JsonValue } from '../wire.js';
import { type ClaimedJob, type ClaimRequest, DEFAULT_LEASE_MS } from '../wire.js';
import { createJobRunner, type JobRunnerOptions } from './job-runner.js';
import type { WorkerApi } from './worker-api.js';

/** Polls `check` until it answers something truthy, or fails after `ms`. */
async function eventually<T>(check: () => T, ms = 3000): Promise<NonNullable<T>> {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = check();
    if (value) return value as NonNullable<T>;
    if (Date.now() > deadline) throw new Error(`Timed out after ${ms} ms`);
    await delay(5);
  }
}

const jobOf = (id: string, type: string) => ({ id, type, attempt: 1 }) as Job;

/**
 * A worker API in memory: `add` queues a job, claims take the queue in order (waiting for one until
 * their signal aborts), and every call is recorded as `method id`. `refuse` makes the next calls of a
 * method reject with the given errors, one per call.
 */
function fakeApi() {
  const queue: Job[] = [];
  const calls: string[] = [];
  const claims: ClaimRequest[] = [];
  const refusals = new Map<string, unknown[]>();
  const watchers = new Map<string, (reason: Error) => void>();
  const waiting = new Set<() => void>();
  const record = async (method: string, id: string) => {
    calls.push(`${method} ${id}`);
    const error = refusals.get(method)?.shift();
    if (error) throw error;
    return jobOf(id, 'any');
  };
  const api: WorkerApi = {
    async claim(request, signal) {
      claims.push(request);
      for (;;) {
        signal?.throwIfAborted();
        const index = queue.findIndex((job) => request.types.includes(job.type));
        const job = index >= 0 ? queue.splice(index, 1)[0] : undefined;
        if (job) {
          calls.push(`claim ${job.id}`);
          const claimed: ClaimedJob = {
            job,
            ownerId: 'o',
            input: null,
            leaseToken: `t-${job.id}`,
            leaseExpiresAt: '',
          };
          return claimed;
        }
        await new Promise<void>((resolve) => {
          waiting.add(resolve);
          signal?.addEventListener('abort', () => resolve(), { once: true });
        });
      }
    },
    heartbeat: async (id) => (await record('heartbeat', id)) && { leaseExpiresAt: '' },
    progress: (id) => record('progress', id),
    progressMany: async () => [],
    complete: (id, _token, result) => record(`complete ${JSON.stringify(result)}`, id),
    fail: (id, _token, failure) => record(`fail ${failure.code}`, id),
    release: (id) => record('release', id),
    watch(id, onLost) {
      watchers.set(id, onLost);
      return () => watchers.delete(id);
    },
  };
  return {
    api,
    calls,
    claims,
    watchers,
    add(id: string, type = 'a') {
      queue.push(jobOf(id, type));
      for (const wake of waiting) wake();
      waiting.clear();
    },
    refuse(method: string, ...errors: unknown[]) {
      refusals.set(method, errors);
    },
  };
}

const runnerOver = (api: WorkerApi, options: Partial<JobRunnerOptions> = {}) =>
  createJobRunner({ api, workerId: 'w', onError: () => {}, ...options });

describe('createJobRunner over a WorkerApi', () => {
  it('claims with the default lease and completes each job with what its handler returns', async () => {
    const fake = fakeApi();
    const runner = runnerOver(fake.api);
    runner.handle('a', async (job) => ({ ran: job.id }));
    runner.start();
    fake.add('j1');
    await eventually(() => fake.calls.includes('complete {"ran":"j1"} j1'));
    assert.deepEqual(fake.claims[0], {
      types: ['a'],
      workerId: 'w',
      leaseMs: DEFAULT_LEASE_MS,
      waitMs: 20_000,
    });
    await runner.stop();
  });

  it('runs each handled type up to its own concurrency', async () => {
    const fake = fakeApi();
    const runner = runnerOver(fake.api);
    const active = { a: 0, b: 0 };
    const most = { a: 0, b: 0 };
    const handler = (type: 'a' | 'b') => async () => {
      active[type]++;
      most[type] = Math.max(most[type], active[type]);
      await delay(20);
      active[type]--;
      return null;
    };
    runner.handle('a', handler('a'), { concurrency: 1 });
    runner.handle('b', handler('b'), { concurrency: 3 });
    runner.start();
    for (let i = 0; i < 4; i++) {
      fake.add(`a${i}`, 'a');
      fake.add(`b${i}`, 'b');
    }
    await eventually(() => fake.calls.filter((call) => call.startsWith('complete')).length === 8);
    assert.deepEqual(most, { a: 1, b: 3 });
    await runner.stop();
  });

  it('aborts the handler and writes nothing more when the API says the job stopped running', async () => {
    const fake = fakeApi();
    const runner = runnerOver(fake.api);
    let reason: unknown = null;
    runner.handle('a', async (_job, { signal }) => {
      await new Promise((resolve) => signal.addEventListener('abort', resolve, { once: true }));
      reason = signal.reason;
      return { late: true };
    });
    runner.start();
    fake.add('j1');
    const lost = await eventually(() => fake.watchers.get('j1'));
    lost(new Error('The job is cancelled.'));
    await eventually(() => runner.running === 0);
    assert.match(String(reason), /cancelled/);
    assert.deepEqual(fake.calls, ['claim j1']);
    assert.equal(fake.watchers.size, 0, 'the watch ends with the run');
    await runner.stop();
  });

  it('tries a final write again through a fault, and fails the job generically when its result is refused', async () => {
    const fake = fakeApi();
    const errors: unknown[] = [];
    const runner = runnerOver(fake.api, { onError: (error) => errors.push(error) });
    fake.refuse('complete {"ok":1}', new JobTrackerHttpError(503, 'storage_unavailable', 'Away.'));
    fake.refuse('complete {"big":1}', new JobTrackerHttpError(422, 'invalid_request', 'Too large.'));
    runner.handle('a', async (job): Promise<JsonValue> => (job.id === 'j1' ? { ok: 1 } : { big: 1 }));
    runner.start();
    fake.add('j1');
    await eventually(() => fake.calls.filter((call) => call === 'complete {"ok":1} j1').length === 2);
    fake.add('j2');
    await eventually(() => fake.calls.includes('fail internal_error j2'));
    assert.deepEqual(
      errors.map((error) => (error as JobTrackerHttpError).status),
      [422],
      'the retried fault is not reported; the refusal is',
    );
    await runner.stop();
  });

  it('replaces the handler of a type handled again', async () => {
    const fake = fakeApi();
    const runner = runnerOver(fake.api);
    runner.handle('a', async () => ({ v: 1 }));
    runner.handle('a', async () => ({ v: 2 }));
    runner.start();
    fake.add('j1');
    await eventually(() => fake.calls.includes('complete {"v":2} j1'));
    assert.ok(!fake.calls.includes('complete {"v":1} j1'), 'the first handler did not run');
    await runner.stop();
  });

  it('gives back on stop the jobs it runs and a job claimed as it stopped', async () => {
    const fake = fakeApi();
    let answer = null as ((claimed: ClaimedJob) => void) | null;
    const api: WorkerApi = {
      ...fake.api,
      // A claim that ignores its signal: it answers after the runner has stopped.
      claim: () =>
        new Promise((resolve) => {
          answer = resolve;
        }),
    };
    const runner = runnerOver(api);
    runner.handle('a', async () => null);
    runner.start();
    await eventually(() => answer);
    const stopped = runner.stop();
    answer?.({ job: jobOf('late', 'a'), ownerId: 'o', input: null, leaseToken: 't', leaseExpiresAt: '' });
    await stopped;
    assert.deepEqual(fake.calls, ['release late']);
  });

  it('refuses a lease or a concurrency out of range, and no type at all', () => {
    assert.throws(
      () => runnerOver(fakeApi().api, { leaseMs: 999 }),
      /leaseMs must be a whole number from 1000/,
    );
    const runner = runnerOver(fakeApi().api);
    assert.throws(() => runner.handle('a', async () => null, { concurrency: 0 }), /concurrency/);
    assert.throws(() => runner.handle([], async () => null), /at least one job type/);
  });
});
