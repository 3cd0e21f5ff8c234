import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * One teardown for a benchmark: whatever it starts (servers, child processes, browsers, temporary
 * folders) registers how to stop it, and `run()` stops them in reverse order, each step on its own, so a
 * failing step does not leave the rest running. SIGINT and SIGTERM run it too before the process leaves.
 */
export interface Teardown {
  /** Registers a step (steps run last-registered first); call the answer to run that step early, once. */
  add(step: () => unknown): () => Promise<void>;
  /** Runs every registered step once, in reverse order; errors are logged, not thrown. */
  run(): Promise<void>;
}

/** A teardown that also runs on SIGINT/SIGTERM (then the process exits with 130/143). */
export function createTeardown(): Teardown {
  const steps: (() => unknown)[] = [];
  let running: Promise<void> | null = null;
  const run = () => {
    running ??= (async () => {
      process.off('SIGINT', onInterrupt);
      process.off('SIGTERM', onTerminate);
      while (steps.length > 0) {
        const step = steps.pop() as () => unknown;
        try {
          await step();
        } catch (error) {
          console.error('teardown:', error);
        }
      }
    })();
    return running;
  };
  const leave = (code: number) => () => {
    void run().finally(() => process.exit(code));
  };
  const onInterrupt = leave(130);
  const onTerminate = leave(143);
  process.once('SIGINT', onInterrupt);
  process.once('SIGTERM', onTerminate);
  const add = (step: () => unknown) => {
    steps.push(step);
    return async () => {
      const index = steps.lastIndexOf(step);
      if (index < 0) return;
      steps.splice(index, 1);
      await step();
    };
  };
  return { add, run };
}

/** A fresh folder under `parent` (the OS temp folder by default), removed by the teardown. */
export function temporaryFolder(teardown: Teardown, prefix: string, parent = tmpdir()): string {
  const dir = mkdtempSync(join(parent, prefix));
  teardown.add(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** Runs a benchmark's main and leaves the process when it is done: 0, or 1 after printing the error. */
export function exitWhenDone(main: () => Promise<void>): void {
  main().then(
    () => process.exit(0),
    (error: unknown) => {
      console.error(error);
      process.exit(1);
    },
  );
}
