import { ApiError } from '../http/errors.js';

/** A token bucket per key: `burst` at once, refilled at `perMinute`. */
export interface RateLimit {
  burst: number;
  perMinute: number;
}

export interface RateLimiter {
  /** Takes one token for `key`, or throws a 429 with `Retry-After` when its bucket is empty. */
  take(key: string): void;
}

/** Buckets kept at most; the oldest go first (a bucket forgotten refills to full, as it would have). */
const MAX_KEYS = 100_000;

/** One bucket per key (a user), so one user's burst never slows another's requests. */
export function createRateLimiter(limit: RateLimit, what: string, now: () => number = Date.now): RateLimiter {
  const buckets = new Map<string, { tokens: number; at: number }>();
  const perMs = limit.perMinute / 60_000;
  return {
    take(key) {
      const time = now();
      const held = buckets.get(key);
      const tokens = held ? Math.min(limit.burst, held.tokens + (time - held.at) * perMs) : limit.burst;
      if (tokens < 1) {
        const retryAfter = Math.max(1, Math.ceil((1 - tokens) / perMs / 1000));
        throw new ApiError(
          429,
          'rate_limited',
          `Too many ${what}: at most ${limit.burst} at once and ${limit.perMinute} a minute. Try again in ${retryAfter} s.`,
          undefined,
          { 'Retry-After': String(retryAfter) },
        );
      }
      buckets.delete(key);
      buckets.set(key, { tokens: tokens - 1, at: time });
      if (buckets.size > MAX_KEYS) buckets.delete(buckets.keys().next().value as string);
    },
  };
}
