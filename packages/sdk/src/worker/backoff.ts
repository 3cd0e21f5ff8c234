const BACKOFF_BASE_MS = 250;
const BACKOFF_MAX_MS = 10_000;

/** Exponential backoff with full jitter: a random delay up to 250 ms × 2^failures, at most `maxMs` (10 s). */
export const backoff = (failures: number, maxMs = BACKOFF_MAX_MS) =>
  Math.random() * Math.min(maxMs, BACKOFF_BASE_MS * 2 ** Math.min(failures, 16));

/** Resolves after `ms`, or at once when `signal` aborts; leaves no timer behind either way. */
export function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const done = () => {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal.addEventListener('abort', done, { once: true });
  });
}
