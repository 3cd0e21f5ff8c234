import { randomBytes } from 'node:crypto';

const CROCKFORD = '0123456789abcdefghjkmnpqrstvwxyz';

/** A 26-character ULID-style id: 10 characters of millisecond time, then 16 random ones; sorts by creation time. */
export function createId(now: number = Date.now()): string {
  let time = '';
  let t = now;
  for (let i = 0; i < 10; i++) {
    time = CROCKFORD[t % 32] + time;
    t = Math.floor(t / 32);
  }
  const bytes = randomBytes(16);
  let random = '';
  for (const byte of bytes) random += CROCKFORD[byte % 32];
  return time + random;
}

/** An unguessable token, e.g. for a worker's lease. */
export function createSecretToken(): string {
  return randomBytes(18).toString('base64url');
}
