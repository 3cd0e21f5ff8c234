/** The lease a claim asks for unless told otherwise, in ms: the in-process runner's and `createWorker`'s. */
export const DEFAULT_LEASE_MS = 15_000;
/** The shortest lease the job API grants, in ms. */
export const MIN_LEASE_MS = 1000;
/** The longest lease the job API grants, in ms (an hour). */
export const MAX_LEASE_MS = 3_600_000;
/** The longest one claim may wait for a pending job (a long poll), in ms. */
export const MAX_CLAIM_WAIT_MS = 30_000;

/** A heartbeat every third of the lease: two may go missing before the lease runs out. */
export const heartbeatIntervalMs = (leaseMs: number) => Math.max(250, Math.floor(leaseMs / 3));

/** Answers `value` when it is a whole number from `min` to `max`; throws a `RangeError` naming the option otherwise. */
export function wholeNumberOption(name: string, value: number, min: number, max: number): number {
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new RangeError(`${name} must be a whole number from ${min} to ${max}, not ${value}.`);
  }
  return value;
}
