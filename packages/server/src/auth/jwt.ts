import { createHmac, timingSafeEqual } from 'node:crypto';

/** Why a token was refused. */
export type TokenProblem = 'malformed' | 'algorithm' | 'signature' | 'expired' | 'not_yet_valid' | 'claims';

export class TokenError extends Error {
  override readonly name = 'TokenError';
  constructor(
    readonly problem: TokenProblem,
    message: string,
  ) {
    super(message);
  }
}

export interface TokenClaims {
  sub: string;
  exp: number;
  iat?: number;
  nbf?: number;
  [claim: string]: unknown;
}

/** 9999-12-31T23:59:59Z: an `exp` beyond it is not a real expiry (`1e400` even parses to Infinity). */
export const MAX_EXP_SECONDS = 253_402_300_799;

const b64 = (data: string | Buffer) => Buffer.from(data).toString('base64url');
const hmac = (input: string, secret: string) => createHmac('sha256', secret).update(input).digest();

/**
 * Signs an HS256 JWT for a job owner. A host's backend calls this (or any JWT library) to mint the
 * short-lived token its pages pass to the elements.
 */
export function signToken(
  claims: { sub: string; expiresInSeconds?: number; [claim: string]: unknown },
  secret: string,
  now: number = Date.now(),
): string {
  const { expiresInSeconds = 3600, ...rest } = claims;
  const iat = Math.floor(now / 1000);
  const payload = { ...rest, iat, exp: iat + expiresInSeconds };
  const head = `${b64(JSON.stringify({ alg: 'HS256', typ: 'JWT' }))}.${b64(JSON.stringify(payload))}`;
  return `${head}.${b64(hmac(head, secret))}`;
}

/** Verifies an HS256 JWT: signature, `exp` (required), `nbf`, and a non-empty string `sub`. */
export function verifyToken(
  token: string,
  secret: string,
  now: number = Date.now(),
  leewaySeconds = 5,
): TokenClaims {
  const parts = token.split('.');
  if (parts.length !== 3) throw new TokenError('malformed', 'The token is not a JWT.');
  const [head, body, signature] = parts as [string, string, string];
  let header: { alg?: unknown };
  let claims: Record<string, unknown>;
  try {
    header = JSON.parse(Buffer.from(head, 'base64url').toString('utf8'));
    claims = JSON.parse(Buffer.from(body, 'base64url').toString('utf8'));
  } catch {
    throw new TokenError('malformed', 'The token is not a JWT.');
  }
  if (typeof header !== 'object' || header === null || typeof claims !== 'object' || claims === null) {
    throw new TokenError('malformed', 'The token is not a JWT.');
  }
  if (header.alg !== 'HS256') throw new TokenError('algorithm', 'The token must be signed with HS256.');
  const expected = hmac(`${head}.${body}`, secret);
  const given = Buffer.from(signature, 'base64url');
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
    throw new TokenError('signature', 'The token signature is not valid.');
  }
  const seconds = now / 1000;
  if (typeof claims.exp !== 'number') throw new TokenError('claims', 'The token has no expiry (exp).');
  if (!Number.isFinite(claims.exp) || claims.exp < 0 || claims.exp > MAX_EXP_SECONDS) {
    throw new TokenError('claims', 'The token’s expiry (exp) is not a time between 1970 and 9999.');
  }
  if (claims.exp + leewaySeconds <= seconds) throw new TokenError('expired', 'The token has expired.');
  if (typeof claims.nbf === 'number' && claims.nbf - leewaySeconds > seconds) {
    throw new TokenError('not_yet_valid', 'The token is not valid yet.');
  }
  if (typeof claims.sub !== 'string' || claims.sub.length === 0 || claims.sub.length > 200) {
    throw new TokenError('claims', 'The token has no subject (sub).');
  }
  return claims as TokenClaims;
}
