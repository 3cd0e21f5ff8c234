/** A heartbeat every third of the lease: two may go missing before the lease runs out. */
export const heartbeatIntervalMs = (leaseMs: number) => Math.max(250, Math.floor(leaseMs / 3));

/** Answers `value` when it is a whole number from `min` to `max`; throws a `RangeError` naming the option otherwise. */
export function wholeNumberOption(name: string, value: number, min: number, max: number): number {
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new RangeError(`${name} must be a whole number from ${min} to ${max}, not ${value}.`);
  }
  return value;
}
