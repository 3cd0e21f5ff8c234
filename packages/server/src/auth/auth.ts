import { createHash, timingSafeEqual } from 'node:crypto';
import { ApiError } from '../http/errors.js';
import { createTokenVerifier, type Secrets, secretList, TokenError } from './jwt.js';
import { VerifiedTokens } from './verified-tokens.js';

/** Resolves the owner of a request, or null to refuse it with 401. */
export type Authenticate = (request: Request) => string | null | Promise<string | null>;

export interface AuthOptions {
  /** HS256 secret for browser tokens, or several while rotating: any of them verifies (`JOBTRACKER_SECRET`). */
  secret?: Secrets;
  /** The `iss` every token must carry (`JOBTRACKER_ISSUER`); unset: not checked. */
  issuer?: string;
  /** The `aud` every token must carry (`JOBTRACKER_AUDIENCE`); unset: not checked. */
  audience?: string;
  /** Key that workers send as `Authorization: Bearer …` (`JOBTRACKER_WORKER_KEY`). */
  workerKey?: string;
  /** The host's own authentication, used instead of JWTs. */
  authenticate?: Authenticate;
  now?: () => number;
}

/** The caller, once authenticated; `expiresAt` is when its token stops being valid, in epoch ms. */
export interface Caller {
  ownerId: string;
  expiresAt: number | null;
}

/** The single owner of every job in dev mode (no secret and no `authenticate`). */
export const DEV_OWNER = 'demo';

const unauthorized = (message: string, code = 'unauthorized') =>
  new ApiError(401, code, message, undefined, { 'WWW-Authenticate': 'Bearer' });

/** The token of an `Authorization: Bearer <token>` header's value, or null. */
function bearerToken(header: string | null | undefined): string | null {
  if (!header) return null;
  const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
  return match?.[1] ?? null;
}

const bearer = (request: Request) => bearerToken(request.headers.get('authorization'));

const digest = (value: string) => createHash('sha256').update(value).digest();

export interface Authenticator {
  readonly devMode: boolean;
  readonly workerApiOpen: boolean;
  user(request: Request): Promise<Caller>;
  /**
   * The caller that `user` would answer for a request with this `Authorization` header value, when it
   * can tell at once: dev mode's, a token verified before that has not expired, or a plain valid token
   * (checked synchronously). Undefined otherwise (a host's `authenticate`, an unusual, bad or expired
   * token): then only `user` can tell, and word the refusal.
   */
  knownUser(authorization: string | undefined): Caller | undefined;
  /** Whether `worker` accepts a request with this `Authorization` header value. */
  knownWorker(authorization: string | undefined): boolean;
  worker(request: Request): void;
}

/** How many verified tokens are remembered. */
const VERIFIED_TOKENS = 10_000;

export function createAuthenticator(options: AuthOptions): Authenticator {
  const now = options.now ?? Date.now;
  const secrets = secretList(options.secret);
  const devMode = secrets.length === 0 && !options.authenticate;
  const verify =
    secrets.length > 0
      ? createTokenVerifier(secrets, {
          issuer: options.issuer || undefined,
          audience: options.audience || undefined,
        })
      : null;
  const workerDigest = options.workerKey ? digest(options.workerKey) : null;
  const verified = new VerifiedTokens(VERIFIED_TOKENS, now);
  const knownWorker = (authorization: string | undefined) => {
    if (!workerDigest) return devMode;
    const token = bearerToken(authorization);
    return token !== null && timingSafeEqual(digest(token), workerDigest);
  };
  return {
    devMode,
    workerApiOpen: devMode && !workerDigest,
    async user(request) {
      if (options.authenticate) {
        const ownerId = await options.authenticate(request);
        if (typeof ownerId !== 'string' || ownerId.length === 0) throw unauthorized('Not signed in.');
        return { ownerId, expiresAt: null };
      }
      if (!verify) return { ownerId: DEV_OWNER, expiresAt: null };
      const token = bearer(request);
      if (!token) throw unauthorized('Send a token as "Authorization: Bearer <token>".');
      const known = verified.get(token);
      if (known) return known;
      try {
        const claims = await verify(token, now());
        const caller = { ownerId: claims.sub, expiresAt: claims.exp * 1000 };
        verified.remember(token, caller);
        return caller;
      } catch (error) {
        if (error instanceof TokenError) {
          throw unauthorized(error.message, error.problem === 'expired' ? 'token_expired' : 'invalid_token');
        }
        throw error;
      }
    },
    knownUser(authorization) {
      if (options.authenticate) return undefined;
      if (!verify) return { ownerId: DEV_OWNER, expiresAt: null };
      const token = bearerToken(authorization);
      if (!token) return undefined;
      const known = verified.get(token);
      if (known) return known;
      const claims = verify.quick(token, now());
      if (!claims) return undefined;
      const caller = { ownerId: claims.sub, expiresAt: claims.exp * 1000 };
      verified.remember(token, caller);
      return caller;
    },
    knownWorker,
    worker(request) {
      if (!workerDigest) {
        if (devMode) return;
        throw new ApiError(
          403,
          'worker_api_disabled',
          'The worker API needs JOBTRACKER_WORKER_KEY to be set.',
        );
      }
      if (!knownWorker(request.headers.get('authorization') ?? undefined)) {
        throw unauthorized('Send the worker key as "Authorization: Bearer <key>".');
      }
    },
  };
}
