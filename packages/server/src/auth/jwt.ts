import { createHmac, webcrypto } from 'node:crypto';
import { decodeProtectedHeader, errors, jwtVerify } from 'jose';
import { quickVerifyHs256 } from './quick-hs256.js';

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
  iss?: string;
  aud?: string | string[];
  [claim: string]: unknown;
}

/** 9999-12-31T23:59:59Z: an `exp` beyond it is not a real expiry (`1e400` even parses to Infinity). */
export const MAX_EXP_SECONDS = 253_402_300_799;

/** The longest `sub` (owner id) a token may carry. */
const MAX_SUBJECT_LENGTH = 200;

/** One HS256 secret, or several while rotating: the first signs, every one verifies. */
export type Secrets = string | readonly string[];

/** The secrets of a `Secrets` setting, empty ones left out. */
export function secretList(secrets: Secrets | undefined): string[] {
  return (typeof secrets === 'string' ? [secrets] : (secrets ?? [])).filter((secret) => secret.length > 0);
}

const b64 = (data: string | Buffer) => Buffer.from(data).toString('base64url');

/**
 * Signs an HS256 JWT for a job owner with the first of `secret`. A host's backend calls this (or any JWT
 * library) to mint the short-lived token its pages pass to the elements. `issuer` and `audience` become
 * the `iss` and `aud` claims a server with `JOBTRACKER_ISSUER` / `JOBTRACKER_AUDIENCE` asks for.
 */
export function signToken(
  claims: {
    sub: string;
    expiresInSeconds?: number;
    issuer?: string;
    audience?: string | string[];
    [claim: string]: unknown;
  },
  secret: Secrets,
  now: number = Date.now(),
): string {
  const [key] = secretList(secret);
  if (key === undefined) throw new TypeError('signToken needs a non-empty secret.');
  const { expiresInSeconds = 3600, issuer, audience, ...rest } = claims;
  const iat = Math.floor(now / 1000);
  const payload = {
    ...rest,
    ...(issuer === undefined ? {} : { iss: issuer }),
    ...(audience === undefined ? {} : { aud: audience }),
    iat,
    exp: iat + expiresInSeconds,
  };
  const head = `${b64(JSON.stringify({ alg: 'HS256', typ: 'JWT' }))}.${b64(JSON.stringify(payload))}`;
  return `${head}.${createHmac('sha256', key).update(head).digest('base64url')}`;
}

export interface VerifyOptions {
  /** The `iss` a token must carry; unset: not checked. */
  issuer?: string;
  /** The `aud` a token must carry (as it, or in its list); unset: not checked. */
  audience?: string;
  /** Seconds of clock skew allowed on `exp` and `nbf`. Default 5. */
  leewaySeconds?: number;
  /** The time to check against, in epoch ms. Default now. */
  now?: number;
}

const MESSAGES = {
  malformed: 'The token is not a JWT.',
  algorithm: 'The token must be signed with HS256.',
  signature: 'The token signature is not valid.',
  noExpiry: 'The token has no expiry (exp).',
  absurdExpiry: 'The token’s expiry (exp) is not a time between 1970 and 9999.',
  expired: 'The token has expired.',
  notYetValid: 'The token is not valid yet.',
  noSubject: 'The token has no subject (sub).',
  issuer: 'The token’s issuer (iss) is not the one this server accepts.',
  audience: 'The token’s audience (aud) does not include this server.',
};

const CLAIM_MESSAGES: Record<string, string> = {
  exp: MESSAGES.noExpiry,
  sub: MESSAGES.noSubject,
  iss: MESSAGES.issuer,
  aud: MESSAGES.audience,
  nbf: 'The token’s not-before time (nbf) is not a number.',
  iat: 'The token’s issue time (iat) is not a number.',
};

/** The refusal of an `exp` that is not a real time (jose takes Infinity, and calls -5 expired). */
function absurdExpiry(claims: unknown): TokenError | null {
  const exp = (claims as { exp?: unknown } | null)?.exp;
  if (typeof exp !== 'number') return null;
  return Number.isFinite(exp) && exp >= 0 && exp <= MAX_EXP_SECONDS
    ? null
    : new TokenError('claims', MESSAGES.absurdExpiry);
}

/** The `TokenError` for an error of jose's, worded as the API words it and without the token's content. */
function toTokenError(error: unknown, token: string): TokenError {
  if (error instanceof errors.JWTClaimValidationFailed || error instanceof errors.JWTExpired) {
    const absurd = absurdExpiry(error.payload);
    if (absurd) return absurd;
    if (error instanceof errors.JWTExpired) return new TokenError('expired', MESSAGES.expired);
    if (error.claim === 'nbf' && error.reason === 'check_failed') {
      return new TokenError('not_yet_valid', MESSAGES.notYetValid);
    }
    return new TokenError('claims', CLAIM_MESSAGES[error.claim] ?? MESSAGES.malformed);
  }
  if (error instanceof errors.JWSSignatureVerificationFailed) {
    return new TokenError('signature', MESSAGES.signature);
  }
  if (error instanceof errors.JOSEAlgNotAllowed) return new TokenError('algorithm', MESSAGES.algorithm);
  if (error instanceof errors.JOSEError) {
    // A header without a usable `alg` is refused as a JWSInvalid; it was refused for its algorithm before.
    try {
      if (decodeProtectedHeader(token).alg !== 'HS256')
        return new TokenError('algorithm', MESSAGES.algorithm);
    } catch {
      // not even a header
    }
    return new TokenError('malformed', MESSAGES.malformed);
  }
  throw error;
}

/** Verifies a token (see `createTokenVerifier`). */
export interface TokenVerifier {
  (token: string, now?: number): Promise<TokenClaims>;
  /**
   * The claims of a plain valid token, checked synchronously; undefined for any other token, valid or
   * not: only the full check can tell, and word the refusal.
   */
  quick(token: string, now?: number): TokenClaims | undefined;
}

/**
 * Verifies HS256 JWTs with jose: the signature under any of `secrets`, `exp` (required), `nbf`, a
 * non-empty string `sub`, and `iss` / `aud` when asked for. The keys are imported once. Refusals are
 * `TokenError`s worded as the API answers them. A plain valid token is accepted without jose, by
 * `quickVerifyHs256`, which accepts nothing that jose refuses.
 */
export function createTokenVerifier(
  secrets: Secrets,
  options: Omit<VerifyOptions, 'now'> = {},
): TokenVerifier {
  const list = secretList(secrets);
  if (list.length === 0) throw new TypeError('Verifying tokens needs at least one non-empty secret.');
  let keys: Promise<webcrypto.CryptoKey[]> | undefined;
  const importKeys = () =>
    Promise.all(
      list.map((secret) =>
        webcrypto.subtle.importKey('raw', Buffer.from(secret), { name: 'HMAC', hash: 'SHA-256' }, false, [
          'verify',
        ]),
      ),
    );
  const secretBytes = list.map((secret) => Buffer.from(secret));
  const leewaySeconds = options.leewaySeconds ?? 5;
  const quick = Number.isFinite(leewaySeconds) && leewaySeconds >= 0;
  const verifyQuickly = (token: string, now = Date.now()): TokenClaims | undefined => {
    if (!quick || !Number.isFinite(now)) return undefined;
    return quickVerifyHs256(token, secretBytes, {
      issuer: options.issuer,
      audience: options.audience,
      leewaySeconds,
      nowSeconds: Math.floor(now / 1000),
      maxExp: MAX_EXP_SECONDS,
      maxSubject: MAX_SUBJECT_LENGTH,
    }) as TokenClaims | undefined;
  };
  const verify = async (token: string, now = Date.now()): Promise<TokenClaims> => {
    const claims = verifyQuickly(token, now);
    if (claims) return claims;
    keys ??= importKeys();
    let lastError: unknown;
    for (const key of await keys) {
      try {
        const { payload } = await jwtVerify(token, key, {
          algorithms: ['HS256'],
          requiredClaims: ['exp', 'sub'],
          issuer: options.issuer,
          audience: options.audience,
          clockTolerance: leewaySeconds,
          currentDate: new Date(now),
        });
        const absurd = absurdExpiry(payload);
        if (absurd) throw absurd;
        const { sub } = payload;
        if (typeof sub !== 'string' || sub.length === 0 || sub.length > MAX_SUBJECT_LENGTH) {
          throw new TokenError('claims', MESSAGES.noSubject);
        }
        return payload as TokenClaims;
      } catch (error) {
        if (error instanceof TokenError) throw error;
        lastError = error;
        // Under another of the secrets the signature may hold; any other refusal is final.
        if (!(error instanceof errors.JWSSignatureVerificationFailed)) break;
      }
    }
    throw toTokenError(lastError, token);
  };
  return Object.assign(verify, { quick: verifyQuickly });
}

/** Verifies one HS256 JWT (see `createTokenVerifier`, which imports the keys once for many tokens). */
export async function verifyToken(
  token: string,
  secrets: Secrets,
  options: VerifyOptions = {},
): Promise<TokenClaims> {
  const { now, ...rest } = options;
  return createTokenVerifier(secrets, rest)(token, now);
}
