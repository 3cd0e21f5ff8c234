import type { Job } from '@jobtracker/sdk/wire';
import type { BatchOutcome } from '../types.js';

/** Progress reports committed together at most. */
const DEFAULT_BATCH_MAX = 500;

interface Waiting<Update> {
  update: Update;
  resolve: (job: Job) => void;
  reject: (error: unknown) => void;
}

/**
 * Group commit: progress reports that arrive while a batch is being committed wait and go together in
 * the next one, one transaction for all. Every commit takes the one event counter, so this is what lets
 * a busy instance keep up. Each report is answered on its own, once its batch is delivered.
 */
export class ProgressBatcher<Update> {
  readonly #commit: (updates: Update[]) => Promise<BatchOutcome[]>;
  readonly #delivered: () => Promise<void>;
  readonly #batchMax: number;
  readonly #queue: Waiting<Update>[] = [];
  #writing = false;

  /**
   * `commit` writes one batch and answers each update; `delivered` resolves once what was committed is
   * published (it must not reject). The next batch starts as soon as one commits.
   */
  constructor(
    commit: (updates: Update[]) => Promise<BatchOutcome[]>,
    delivered: () => Promise<void>,
    batchMax = DEFAULT_BATCH_MAX,
  ) {
    this.#commit = commit;
    this.#delivered = delivered;
    this.#batchMax = batchMax;
  }

  submit(update: Update): Promise<Job> {
    return new Promise((resolve, reject) => {
      this.#queue.push({ update, resolve, reject });
      if (!this.#writing) void this.#writeQueue();
    });
  }

  async #writeQueue(): Promise<void> {
    this.#writing = true;
    try {
      while (this.#queue.length > 0) {
        const batch = this.#queue.splice(0, this.#batchMax);
        await this.#commit(batch.map((waiting) => waiting.update)).then(
          (outcomes) => void this.#delivered().then(() => settle(batch, outcomes)),
          (error: unknown) => {
            for (const { reject } of batch) reject(error);
          },
        );
      }
    } finally {
      this.#writing = false;
    }
  }
}

function settle<Update>(batch: readonly Waiting<Update>[], outcomes: readonly BatchOutcome[]): void {
  for (const [index, { resolve, reject }] of batch.entries()) {
    const outcome = outcomes[index];
    if (outcome && 'job' in outcome) resolve(outcome.job);
    else reject(outcome?.error ?? new Error('No outcome for a progress update.'));
  }
}
