import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { jwtVerify } from 'jose';
import { MAX_EXP_SECONDS, signToken } from './jwt.js';
import { type QuickClaimsCheck, quickVerifyHs256 } from './quick-hs256.js';

const SECRET = 'quick-secret-0123456789abcdef0123456789';
const OTHER = 'other-secret-0123456789abcdef0123456789';
const NOW = 1_800_000_000;
const b64 = (text: string) => Buffer.from(text).toString('base64url');
const sign = (head: string, key: string) => createHmac('sha256', key).update(head).digest('base64url');

/** What jose (the verifier of record) says of a token, with the server's own extra checks of exp and sub. */
async function joseAccepts(token: string, check: QuickClaimsCheck, secrets: string[]): Promise<unknown> {
  for (const secret of secrets) {
    try {
      const { payload } = await jwtVerify(token, Buffer.from(secret), {
        algorithms: ['HS256'],
        requiredClaims: ['exp', 'sub'],
        issuer: check.issuer,
        audience: check.audience,
        clockTolerance: check.leewaySeconds,
        currentDate: new Date(check.nowSeconds * 1000),
      });
      const { exp, sub } = payload as { exp: number; sub: unknown };
      if (!Number.isFinite(exp) || exp < 0 || exp > MAX_EXP_SECONDS) return null;
      if (typeof sub !== 'string' || sub.length === 0 || sub.length > 200) return null;
      return payload;
    } catch (error) {
      if ((error as { code?: string }).code !== 'ERR_JWS_SIGNATURE_VERIFICATION_FAILED') return null;
    }
  }
  return null;
}

const check = (options: Partial<QuickClaimsCheck> = {}): QuickClaimsCheck => ({
  leewaySeconds: 5,
  nowSeconds: NOW,
  maxExp: MAX_EXP_SECONDS,
  maxSubject: 200,
  ...options,
});

const claimValue = fc.oneof(
  fc.constantFrom(NOW - 10, NOW - 5, NOW - 4, NOW, NOW + 5, NOW + 6, NOW + 3600, -1, 0, MAX_EXP_SECONDS + 1),
  fc.constantFrom('1e400', String(NOW + 60), '', 'x'.repeat(201), 'alice', 'idp', 'jobs', null, true),
  fc.constant(['jobs', 'other']),
  fc.constant(['other']),
  fc.integer(),
  fc.double(),
  fc.string(),
);
/** Mostly a valid value, so that many tokens reach the checks after the signature. */
const usually = <T>(valid: fc.Arbitrary<T>) =>
  fc.oneof({ arbitrary: valid, weight: 4 }, { arbitrary: claimValue, weight: 1 });
const claims = fc.record(
  {
    sub: usually(fc.constantFrom('alice', 'b')),
    exp: usually(fc.integer({ min: NOW - 4, max: NOW + 86_400 })),
    nbf: usually(fc.integer({ min: NOW - 86_400, max: NOW + 5 })),
    iat: usually(fc.integer({ min: NOW - 86_400, max: NOW + 60 })),
    iss: usually(fc.constant('idp')),
    aud: usually(fc.constantFrom('jobs', ['x', 'jobs'])),
  },
  { requiredKeys: ['sub', 'exp'] },
);
const header = fc.oneof(
  { arbitrary: fc.constantFrom('{"alg":"HS256","typ":"JWT"}', '{"alg":"HS256"}'), weight: 3 },
  fc.constantFrom(
    '{"typ":"JWT","alg":"HS256"}',
    '{"alg":"HS256","crit":["b64"],"b64":false}',
    '{"alg":"HS512"}',
    '{"alg":"none"}',
  ),
);
/** What may happen to a token on its way: nothing, or a change a careless decoder would not notice. */
const mangle = fc.oneof(
  { arbitrary: fc.constant((token: string) => token), weight: 6 },
  fc.constantFrom(
    (token: string) => `${token}x`,
    (token: string) => token.replace(/\.([^.]*)\./, '.$1A.'),
    (token: string) => token.replace(/\.([^.]*)\./, (_, payload: string) => `.${payload.slice(0, -1)}.`),
    (token: string) => token.replace(/.$/, (last) => (last === 'A' ? 'B' : 'A')),
    (token: string) => `${token}.`,
    (token: string) => token.replace(/^[^.]*/, (head) => `${head}=`),
  ),
);
/** How the payload is encoded before it is signed: canonically, or in a way only a careless decoder reads. */
const encodePayload = fc.oneof(
  { arbitrary: fc.constant(b64), weight: 6 },
  fc.constantFrom(
    (text: string) => `${b64(text)}A`,
    (text: string) => `${b64(text)}AA`,
    (text: string) => `${b64(text)}=`,
    (text: string) => b64(text).replace(/.$/, (last) => String.fromCharCode(last.charCodeAt(0) + 1)),
    (text: string) => b64(text).replace(/^./, '+'),
  ),
);
const payloadText = fc.oneof(
  { arbitrary: claims.map((value) => JSON.stringify(value)), weight: 6 },
  fc.constantFrom('[]', 'null', '"alice"', '{"sub":"alice","exp":1e400}', '{bad json'),
  claims.map((value) => `${JSON.stringify(value).slice(0, -1)},"x":"\\ud800"}`),
);

describe('quick HS256 verification', () => {
  it('accepts only tokens that jose accepts, with the same claims', async () => {
    let accepted = 0;
    await fc.assert(
      fc.asyncProperty(
        header,
        payloadText,
        encodePayload,
        fc.constantFrom(SECRET, SECRET, OTHER, 'third-secret'),
        mangle,
        fc.record({
          issuer: fc.constantFrom(undefined, undefined, 'idp'),
          audience: fc.constantFrom(undefined, undefined, 'jobs'),
        }),
        async (head, payload, encode, key, change, options) => {
          const signed = `${b64(head)}.${encode(payload)}`;
          const token = change(`${signed}.${sign(signed, key)}`);
          const quick = quickVerifyHs256(
            token,
            [SECRET, OTHER].map((secret) => Buffer.from(secret)),
            check(options),
          );
          if (quick === undefined) return;
          accepted++;
          assert.deepEqual(quick, await joseAccepts(token, check(options), [SECRET, OTHER]), token);
        },
      ),
      { numRuns: 3000 },
    );
    assert.ok(accepted > 200, `the property saw ${accepted} accepted tokens`);
  });

  it('accepts a plain valid token, as signToken or another library writes it', () => {
    const now = NOW * 1000;
    const keys = [Buffer.from(SECRET)];
    const ours = signToken({ sub: 'alice', expiresInSeconds: 60 }, SECRET, now);
    assert.equal(quickVerifyHs256(ours, keys, check())?.sub, 'alice', 'signToken');
    const signed = `${b64('{"alg":"HS256"}')}.${b64(JSON.stringify({ sub: 'bob', exp: NOW + 60, iat: NOW }))}`;
    assert.equal(quickVerifyHs256(`${signed}.${sign(signed, SECRET)}`, keys, check())?.sub, 'bob', 'no typ');
    const second = signToken({ sub: 'carol', issuer: 'idp', audience: ['x', 'jobs'] }, OTHER, now);
    assert.equal(
      quickVerifyHs256(second, [...keys, Buffer.from(OTHER)], check({ issuer: 'idp', audience: 'jobs' }))
        ?.sub,
      'carol',
      'the second secret, issuer and audience',
    );
  });

  it('leaves a token at the edges of its validity to jose', () => {
    const keys = [Buffer.from(SECRET)];
    const token = (claims: object) => {
      const signed = `${b64('{"alg":"HS256","typ":"JWT"}')}.${b64(JSON.stringify(claims))}`;
      return `${signed}.${sign(signed, SECRET)}`;
    };
    assert.ok(quickVerifyHs256(token({ sub: 'a', exp: NOW - 4 }), keys, check()), 'within the leeway');
    assert.equal(quickVerifyHs256(token({ sub: 'a', exp: NOW - 5 }), keys, check()), undefined, 'expired');
    assert.equal(
      quickVerifyHs256(token({ sub: 'a', exp: NOW + 60, nbf: NOW + 6 }), keys, check()),
      undefined,
    );
    assert.equal(quickVerifyHs256(token({ sub: 'a', exp: NOW + 60, iat: 'now' }), keys, check()), undefined);
    const raw = Buffer.concat([
      Buffer.from('{"sub":"a'),
      Buffer.from([0xff]),
      Buffer.from(`","exp":${NOW + 60}}`),
    ]);
    const signed = `${b64('{"alg":"HS256"}')}.${raw.toString('base64url')}`;
    assert.equal(
      quickVerifyHs256(`${signed}.${sign(signed, SECRET)}`, keys, check()),
      undefined,
      'not UTF-8',
    );
  });
});
