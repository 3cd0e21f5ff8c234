import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { eventually, openTestTracker } from '@jobtracker/test-support/server';
import type { JobTracker } from '../app/tracker.js';
import { JobFailure } from './runner.js';

describe('in-process runner', () => {
  let tracker: JobTracker;
  before(async () => {
    tracker = await openTestTracker();
  });
  after(() => tracker.close());
  const job = (id: string) => tracker.engine.get('alice', id);

  it('runs a handler with its input, publishes its progress and stores its result', async () => {
    const seen: number[] = [];
    tracker.engine.hub.subscribe('alice', (event) => {
      const progress = JSON.parse(event.data).progress;
      if (typeof progress === 'number') seen.push(progress);
    });
    tracker.runner.handle('r.ok', async (running, { input, progress }) => {
      for (const p of [10, 50, 90]) await progress(p, `at ${p}`);
      return { url: `/done/${running.id}`, echo: input };
    });
    const { job: created } = await tracker.engine.create('alice', { type: 'r.ok', input: { x: 1 } });
    const done = await eventually(async () => {
      const current = await job(created.id);
      return current.status === 'completed' ? current : null;
    });
    assert.deepEqual(done.result, { url: `/done/${created.id}`, echo: { x: 1 } });
    // The store may answer with the completed job a moment before subscribers get its event.
    await eventually(() => seen.length >= 4, 5000, 'the completion event').catch(() => {});
    assert.deepEqual(seen, [10, 50, 90, 100]);
  });

  it('shows a JobFailure’s message but hides other errors behind a generic one', async () => {
    const logged: unknown[] = [];
    const local = await openTestTracker({ runner: { onError: (error) => logged.push(error) } });
    local.runner.handle('r.fail', async () => {
      throw new JobFailure('The spreadsheet has no header row.', { code: 'bad_file', retryable: false });
    });
    local.runner.handle('r.crash', async () => {
      throw new Error('SQLITE_IOERR at /srv/secret/path.db');
    });
    const a = await local.engine.create('alice', { type: 'r.fail' });
    const b = await local.engine.create('alice', { type: 'r.crash' });
    const failed = await eventually(async () => {
      const [x, y] = await Promise.all([
        local.engine.get('alice', a.job.id),
        local.engine.get('alice', b.job.id),
      ]);
      return x.status === 'failed' && y.status === 'failed' ? [x, y] : null;
    });
    assert.deepEqual(failed[0]?.error, {
      message: 'The spreadsheet has no header row.',
      code: 'bad_file',
      retryable: false,
    });
    assert.equal(failed[1]?.error?.message, 'The job failed unexpectedly.');
    assert.doesNotMatch(JSON.stringify(failed[1]), /secret/);
    assert.ok(
      logged.some((error) => String(error).includes('SQLITE_IOERR')),
      'the real error is logged',
    );
    await local.close();
  });

  it('aborts the handler’s signal when its job is cancelled', async () => {
    let aborted = false;
    let started = false;
    tracker.runner.handle('r.cancel', async (_job, { signal, progress }) => {
      started = true;
      await progress(1);
      await new Promise<void>((resolve) => signal.addEventListener('abort', () => resolve()));
      aborted = true;
      return { ignored: true };
    });
    const { job: created } = await tracker.engine.create('alice', { type: 'r.cancel' });
    await eventually(() => started);
    await tracker.engine.cancel('alice', created.id);
    await eventually(() => aborted);
    const after = await job(created.id);
    assert.deepEqual([after.status, after.result], ['cancelled', null]);
  });

  it('lets a handler see a refused progress report without stopping it', async () => {
    let refusal = '';
    tracker.runner.handle('r.lower', async (_job, { progress }) => {
      await progress(60);
      await progress(30).catch((error: { code?: string }) => {
        refusal = error.code ?? 'no code';
      });
      return { kept: true };
    });
    const { job: created } = await tracker.engine.create('alice', { type: 'r.lower' });
    const done = await eventually(async () => {
      const current = await job(created.id);
      return current.status === 'completed' ? current : null;
    });
    assert.equal(refusal, 'progress_decreased');
    assert.deepEqual(done.result, { kept: true });
  });

  it('gives its running jobs back when it stops, so they start again at once', async () => {
    const local = await openTestTracker();
    let started = false;
    local.runner.handle('r.stop', async (_job, { signal, progress }) => {
      started = true;
      await progress(50);
      await new Promise<void>((resolve) => signal.addEventListener('abort', () => resolve()));
      return null;
    });
    const { job: created } = await local.engine.create('alice', { type: 'r.stop' });
    await eventually(() => started);
    await local.runner.stop();
    const after = await local.engine.get('alice', created.id);
    assert.deepEqual([after.status, after.attempt, after.progress], ['pending', 0, null]);
    await local.close();
  });

  it('runs at most `concurrency` jobs of a type at once', async () => {
    let running = 0;
    let peak = 0;
    tracker.runner.handle(
      'r.limit',
      async () => {
        running++;
        peak = Math.max(peak, running);
        await new Promise((resolve) => setTimeout(resolve, 30));
        running--;
        return null;
      },
      { concurrency: 2 },
    );
    const ids: string[] = [];
    for (let i = 0; i < 6; i++)
      ids.push((await tracker.engine.create('alice', { type: 'r.limit', dedupe: false })).job.id);
    await eventually(async () => (await Promise.all(ids.map(job))).every((j) => j.status === 'completed'));
    assert.equal(peak, 2);
  });
});
