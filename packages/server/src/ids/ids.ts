import { randomBytes } from 'node:crypto';

const CROCKFORD = '0123456789abcdefghjkmnpqrstvwxyz';

const TIME_CHARS = 10;
const RANDOM_CHARS = 16;

function timePart(now: number): string {
  let time = '';
  let t = now;
  for (let i = 0; i < TIME_CHARS; i++) {
    time = CROCKFORD[t % 32] + time;
    t = Math.floor(t / 32);
  }
  return time;
}

function randomDigits(): number[] {
  return [...randomBytes(RANDOM_CHARS)].map((byte) => byte % 32);
}

const spell = (digits: number[]) => digits.map((digit) => CROCKFORD[digit]).join('');

/** A 26-character ULID-style id: 10 characters of millisecond time, then 16 random ones; sorts by creation time. */
export function createId(now: number = Date.now()): string {
  return timePart(now) + spell(randomDigits());
}

/**
 * Ids that sort in the order they were made, also within one millisecond and when the clock steps back
 * (a monotonic ULID: the random part of the last id plus one). The database hands out pending jobs by
 * `created_at, id`, so this keeps one process's queue first in, first out.
 */
export function createIdSequence(): (now?: number) => string {
  let lastTime = -1;
  let digits: number[] = [];
  return (now = Date.now()) => {
    if (now > lastTime) {
      lastTime = now;
      digits = randomDigits();
    } else {
      let i = RANDOM_CHARS - 1;
      while (i >= 0 && digits[i] === 31) digits[i--] = 0;
      if (i >= 0) digits[i] = (digits[i] ?? 0) + 1;
      else lastTime += 1;
    }
    return timePart(lastTime) + spell(digits);
  };
}

/** An unguessable token, e.g. for a worker's lease. */
export function createSecretToken(): string {
  return randomBytes(18).toString('base64url');
}
