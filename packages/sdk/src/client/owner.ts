import { jwtClaims, type TokenOption } from '../auth/token.js';

/** The owner a token names: its `sub`, or null when it has none that can be read. */
export const tokenOwner = (token: string | null | undefined): string | null =>
  String(jwtClaims(token)?.sub ?? '') || null;

/**
 * Whose jobs these are, as far as known without asking anyone: the `user` option, else the `sub` of a
 * token string, else (no token at all, dev mode) the browser's one anonymous user `default`. Undefined
 * when a token function must be asked; null when the owner cannot be known (nothing is kept then).
 */
export const knownOwner = (user: string | undefined, token: TokenOption): string | null | undefined =>
  user || (typeof token === 'function' ? undefined : token ? tokenOwner(token) : 'default');

/** The name under which this browser keeps an owner's jobs, and their tabs share one connection. */
export const ownerKey = (baseUrl: string, owner: string) => `jobtracker:${baseUrl}:${owner}`;
