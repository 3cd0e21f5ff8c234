import { randomBytes } from 'node:crypto';
import { signToken } from '@jobtracker/server';

// The cast of the isolation test: user B, whose jobs carry a marker, and the attackers.

export const SECRET = randomBytes(32).toString('hex');
export const WORKER_KEY = randomBytes(16).toString('hex');
export const TAG = randomBytes(5).toString('hex');
/** In every text field of B's jobs (title, message, result, error, input), and nowhere else. */
export const MARK = `bmark${TAG}`;
export const BOB = `user-b-${TAG}`;
/** The attackers: an unrelated user, and ids that differ from B's only in ways a sloppy store might ignore. */
export const ATTACKERS = [
  `user-a-${TAG}`,
  BOB.toUpperCase(),
  `${BOB} `,
  ` ${BOB}`,
  BOB.slice(0, -1),
  `${BOB.slice(0, -1)}_`,
  `${BOB.slice(0, -1)}%`,
  `${BOB}\u0000`,
  `${BOB}\u0000x`,
];
const token = (sub: string) => signToken({ sub, expiresInSeconds: 3600 }, SECRET);
export const BOB_TOKEN = token(BOB);
export const ATTACKER_TOKENS = ATTACKERS.map(token);
