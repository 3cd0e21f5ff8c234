import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { conflict } from '../../http/errors.js';
import { toWireJob } from '../../jobs/job-record.js';
import { runningJob } from '../../testing/job-records.js';
import type { BatchOutcome } from '../types.js';
import { ProgressBatcher } from './progress-batcher.js';

/** A commit that holds each batch until released, answering update `n` with a job of version `n`. */
function heldCommits() {
  const batches: number[][] = [];
  const releases: (() => void)[] = [];
  const commit = (updates: number[]) => {
    batches.push(updates);
    return new Promise<BatchOutcome[]>((resolve) => {
      releases.push(() =>
        resolve(
          updates.map((n) =>
            n < 0
              ? { error: conflict('lease_lost', 'gone') }
              : { job: toWireJob(runningJob({ version: n })) },
          ),
        ),
      );
    });
  };
  return { batches, releases, commit };
}

const tick = () => new Promise((resolve) => setImmediate(resolve));

describe('progress batcher (shared mode’s group commit)', () => {
  it('commits reports that arrive during a commit together in the next one, each answered on its own', async () => {
    const { batches, releases, commit } = heldCommits();
    const batcher = new ProgressBatcher(commit, async () => {});
    const first = batcher.submit(1);
    const rest = [2, 3, -4, 5].map((n) =>
      batcher.submit(n).then(
        (job) => job.version,
        (error) => error.code,
      ),
    );
    await tick();
    assert.deepEqual(batches, [[1]], 'the first report goes alone');
    releases[0]?.();
    assert.equal((await first).version, 1);
    await tick();
    assert.deepEqual(batches, [[1], [2, 3, -4, 5]], 'the ones that waited go together');
    releases[1]?.();
    assert.deepEqual(await Promise.all(rest), [2, 3, 'lease_lost', 5]);
  });

  it('takes at most its batch size at once', async () => {
    const { batches, releases, commit } = heldCommits();
    const batcher = new ProgressBatcher(commit, async () => {}, 2);
    const answers = Promise.all([1, 2, 3, 4, 5].map((n) => batcher.submit(n)));
    for (let i = 0; i < 3; i++) {
      await tick();
      releases[i]?.();
    }
    assert.deepEqual(
      (await answers).map((job) => job.version),
      [1, 2, 3, 4, 5],
    );
    assert.deepEqual(batches, [[1], [2, 3], [4, 5]]);
  });

  it('answers once the batch is delivered, while the next batch already commits', async () => {
    const { batches, releases, commit } = heldCommits();
    let deliver = () => {};
    const delivered = () =>
      new Promise<void>((resolve) => {
        deliver = resolve;
      });
    const batcher = new ProgressBatcher(commit, delivered);
    let answered = false;
    const first = batcher.submit(1).then(() => {
      answered = true;
    });
    await tick();
    const second = batcher.submit(2);
    releases[0]?.();
    await tick();
    assert.equal(answered, false, 'not answered before delivery');
    assert.deepEqual(batches, [[1], [2]], 'the next batch did not wait for delivery');
    deliver();
    await first;
    releases[1]?.();
    await tick();
    deliver();
    assert.equal((await second).version, 2);
  });

  it('fails every report of a batch whose commit failed, and goes on with the next batch', async () => {
    const { releases, commit } = heldCommits();
    let calls = 0;
    const batcher = new ProgressBatcher(
      (updates: number[]) =>
        calls++ === 1 ? Promise.reject(new Error('connection reset')) : commit(updates),
      async () => {},
    );
    const first = batcher.submit(1);
    const failed = [batcher.submit(2), batcher.submit(3)];
    releases[0]?.();
    assert.equal((await first).version, 1);
    for (const answer of failed) await assert.rejects(answer, /connection reset/);
    const next = batcher.submit(4);
    await tick();
    releases[1]?.();
    assert.equal((await next).version, 4);
  });

  it('refuses a report its commit gave no answer for', async () => {
    const batcher = new ProgressBatcher(
      async () => [],
      async () => {},
    );
    await assert.rejects(batcher.submit(1), /No outcome for a progress update/);
  });
});
