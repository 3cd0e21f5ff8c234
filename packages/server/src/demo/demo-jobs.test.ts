import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Job } from '@jobtracker/sdk/wire';
import { caller, eventually, openTestTracker, tokenFor } from '@jobtracker/test-support/server';
import type { JobTracker } from '../app/tracker.js';
import { registerDemoJobs } from './demo-jobs.js';

describe('demo.generate', () => {
  let tracker: JobTracker;
  let call: ReturnType<typeof caller>;
  before(async () => {
    tracker = await openTestTracker();
    registerDemoJobs(tracker.runner);
    call = caller(tracker.app);
  });
  after(() => tracker.close());

  /** Every state of the owner's job `id` as it is published, in order. */
  function watch(ownerId: string) {
    const seen: Job[] = [];
    const stop = tracker.engine.hub.subscribe(ownerId, (event) => seen.push(JSON.parse(event.data)));
    return { of: (id: string) => seen.filter((job) => job.id === id), stop };
  }

  const settled = (ownerId: string, id: string) =>
    eventually(
      async () => {
        const job = await tracker.engine.get(ownerId, id);
        return job.status === 'completed' || job.status === 'failed' ? job : null;
      },
      10_000,
      `job ${id} to finish`,
    );

  it('walks through realistic steps with rising progress and completes with a link to the program', async () => {
    const seen = watch('alice');
    const { job } = await tracker.engine.create('alice', {
      type: 'demo.generate',
      title: 'Q3 program',
      input: { durationMs: 1000 },
    });
    const done = await settled('alice', job.id);
    seen.stop();
    assert.equal(done.status, 'completed');
    const result = done.result as { url: string; programId: string; summary: string };
    assert.deepEqual([result.url, result.programId], [`/programs/${job.id}`, job.id]);
    assert.match(result.summary, /“Q3 program” is ready/);

    const running = seen.of(job.id).filter((state) => state.status === 'running' && state.progress !== null);
    const progress = running.map((state) => state.progress ?? -1);
    assert.deepEqual(
      progress,
      [...progress].sort((a, b) => a - b),
      `progress only rises: ${progress}`,
    );
    assert.deepEqual([progress[0], progress.at(-1)], [0, 100]);
    const steps = running.map((state) => state.message).filter((m, i, all) => m !== all[i - 1]);
    assert.deepEqual(steps, [
      'Reading the analysis…',
      'Drafting the program outline…',
      'Generating workstreams…',
      'Assigning resources…',
      'Writing the program summary…',
      'Finalizing…',
    ]);
  });

  it('fails at the given percent with a retryable error, its progress never past it', async () => {
    const seen = watch('bob');
    const { job } = await tracker.engine.create('bob', {
      type: 'demo.generate',
      title: 'Risky program',
      input: { durationMs: 1000, failAtPercent: 40 },
    });
    const failed = await settled('bob', job.id);
    seen.stop();
    assert.equal(failed.status, 'failed');
    assert.equal(failed.error?.code, 'demo_failure');
    assert.equal(failed.error?.retryable, true);
    const stoppedAt = Number(/(\d+)%/.exec(failed.error?.message ?? '')?.[1]);
    assert.ok(stoppedAt >= 40, `the message names the percent it stopped at: ${failed.error?.message}`);
    const progress = seen.of(job.id).map((state) => state.progress ?? 0);
    assert.ok(progress.length > 1, 'it made some progress first');
    assert.ok(
      progress.every((value) => value < 40),
      `progress never reached the fail point: ${progress}`,
    );
  });

  it('lets a Retry of the failed job run through and complete', async () => {
    const token = tokenFor('carol');
    const created = await call('/api/jobs', {
      body: { type: 'demo.generate', title: 'Risky program', input: { durationMs: 600, failAtPercent: 40 } },
      token,
    });
    assert.equal(created.status, 201);
    const failed = await settled('carol', created.json.job.id);
    assert.deepEqual([failed.status, failed.error?.code], ['failed', 'demo_failure']);

    const retried = await call(`/api/jobs/${failed.id}/retry`, { method: 'POST', token });
    assert.equal(retried.status, 201);
    const retry = retried.json.job as Job;
    assert.notEqual(retry.id, failed.id);
    assert.equal(retry.retryOf, failed.id);
    const done = await settled('carol', retry.id);
    assert.equal(done.status, 'completed', `the retry completes: ${JSON.stringify(done.error)}`);
    assert.equal(done.progress, 100);
    assert.equal((done.result as { url: string }).url, `/programs/${retry.id}`);
    assert.equal(
      (await tracker.engine.get('carol', failed.id)).status,
      'failed',
      'the first job stays failed',
    );
  });
});
