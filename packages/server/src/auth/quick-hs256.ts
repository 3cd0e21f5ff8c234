import { isUtf8 } from 'node:buffer';
import { createHmac, timingSafeEqual } from 'node:crypto';

/** What a token must satisfy beside its signature: the verifier's options, and the time in epoch seconds. */
export interface QuickClaimsCheck {
  issuer?: string;
  audience?: string;
  leewaySeconds: number;
  nowSeconds: number;
  /** The largest `exp` that is a real time. */
  maxExp: number;
  /** The longest `sub` accepted. */
  maxSubject: number;
}

/** The protected headers accepted here, as encoded: `{"alg":"HS256","typ":"JWT"}` and `{"alg":"HS256"}`. */
const PLAIN_HEADERS = new Set(
  ['{"alg":"HS256","typ":"JWT"}', '{"alg":"HS256"}'].map((header) =>
    Buffer.from(header).toString('base64url'),
  ),
);

const BASE64URL = /^[A-Za-z0-9_-]+$/;

const isNumber = (value: unknown): value is number => typeof value === 'number' && Number.isFinite(value);

/**
 * The claims of a plain, valid HS256 token, checked synchronously with node's HMAC; undefined when the
 * token is anything else: unusual (another header, a claim of an odd type, a non-canonical encoding) or
 * refused. It only ever accepts what jose accepts, so the caller asks jose about every token it does not
 * accept, and jose words each refusal. jose verifies through WebCrypto, asynchronously, at several times
 * the cost: this is the common case made cheap.
 */
export function quickVerifyHs256(
  token: string,
  keys: readonly Buffer[],
  check: QuickClaimsCheck,
): Record<string, unknown> | undefined {
  const first = token.indexOf('.');
  const second = token.indexOf('.', first + 1);
  if (first === -1 || second === -1 || token.indexOf('.', second + 1) !== -1) return undefined;
  const header = token.slice(0, first);
  const payload = token.slice(first + 1, second);
  const signature = token.slice(second + 1);
  if (!PLAIN_HEADERS.has(header) || !BASE64URL.test(payload) || signature.length !== 43) return undefined;

  const signed = token.slice(0, second);
  const given = Buffer.from(signature);
  const valid = keys.some((key) => {
    const expected = Buffer.from(createHmac('sha256', key).update(signed).digest('base64url'));
    return expected.length === given.length && timingSafeEqual(expected, given);
  });
  if (!valid) return undefined;

  const bytes = Buffer.from(payload, 'base64url');
  // Only a canonical encoding (which every decoder reads alike) of strict UTF-8, as jose decodes it.
  if (bytes.toString('base64url') !== payload || !isUtf8(bytes)) return undefined;
  let claims: unknown;
  try {
    claims = JSON.parse(bytes.toString('utf8'));
  } catch {
    return undefined;
  }
  if (typeof claims !== 'object' || claims === null || Array.isArray(claims)) return undefined;
  const { sub, exp, nbf, iat, iss, aud } = claims as Record<string, unknown>;
  const { leewaySeconds, nowSeconds } = check;
  if (typeof sub !== 'string' || sub.length === 0 || sub.length > check.maxSubject) return undefined;
  if (!isNumber(exp) || exp < 0 || exp > check.maxExp || exp <= nowSeconds - leewaySeconds) return undefined;
  if (nbf !== undefined && !(isNumber(nbf) && nbf <= nowSeconds + leewaySeconds)) return undefined;
  if (iat !== undefined && typeof iat !== 'number') return undefined;
  if (check.issuer !== undefined && iss !== check.issuer) return undefined;
  if (
    check.audience !== undefined &&
    aud !== check.audience &&
    !(Array.isArray(aud) && aud.includes(check.audience))
  ) {
    return undefined;
  }
  return claims as Record<string, unknown>;
}
