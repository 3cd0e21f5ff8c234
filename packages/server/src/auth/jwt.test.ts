import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { describe, it } from 'node:test';
import { ApiError } from '../http/errors.js';
import { createAuthenticator } from './auth.js';
import { signToken, TokenError, verifyToken } from './jwt.js';

const secret = 'k'.repeat(32);
const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
function forge(header: unknown, payload: unknown, key = secret) {
  const head = `${b64(header)}.${b64(payload)}`;
  return `${head}.${createHmac('sha256', key).update(head).digest('base64url')}`;
}
const problem = (token: string, now = Date.now()) => {
  try {
    verifyToken(token, secret, now);
    return 'accepted';
  } catch (error) {
    assert.ok(error instanceof TokenError, 'a TokenError');
    return error.problem;
  }
};

describe('HS256 tokens', () => {
  it('accepts a token it signed and returns its subject', () => {
    const claims = verifyToken(signToken({ sub: 'alice', expiresInSeconds: 60 }, secret), secret);
    assert.equal(claims.sub, 'alice');
  });

  it('refuses expired, forged, unsigned and subject-less tokens', () => {
    const now = Date.now();
    const exp = Math.floor(now / 1000) + 60;
    assert.equal(problem(signToken({ sub: 'a', expiresInSeconds: 60 }, secret, now - 3_600_000)), 'expired');
    assert.equal(problem(signToken({ sub: 'a' }, 'another-secret')), 'signature');
    assert.equal(problem(forge({ alg: 'none', typ: 'JWT' }, { sub: 'a', exp })), 'algorithm');
    assert.equal(problem(`${b64({ alg: 'none' })}.${b64({ sub: 'a', exp })}.`), 'algorithm');
    assert.equal(problem(forge({ alg: 'HS512' }, { sub: 'a', exp })), 'algorithm');
    assert.equal(problem(forge({ alg: 'HS256' }, { exp })), 'claims');
    assert.equal(problem(forge({ alg: 'HS256' }, { sub: '', exp })), 'claims');
    assert.equal(problem(forge({ alg: 'HS256' }, { sub: 'a' })), 'claims');
    assert.equal(problem(forge({ alg: 'HS256' }, { sub: 'a', exp, nbf: exp })), 'not_yet_valid');
    assert.equal(problem(forge({ alg: 'HS256' }, { sub: 'a', exp })), 'accepted');
  });

  it('refuses an expiry that is not a real time: infinite, negative or past the year 9999', () => {
    const withExp = (exp: string) => {
      const head = `${b64({ alg: 'HS256' })}.${Buffer.from(`{"sub":"a","exp":${exp}}`).toString('base64url')}`;
      return `${head}.${createHmac('sha256', secret).update(head).digest('base64url')}`;
    };
    for (const exp of ['1e400', '-1e400', '253402300800', '1e300', '-5']) {
      assert.equal(problem(withExp(exp)), 'claims', `exp ${exp} is refused`);
    }
    assert.equal(problem(withExp('253402300799')), 'accepted', 'the last second of 9999 is a real expiry');
    assert.equal(problem(withExp(String(Date.now() / 1000 + 60.5))), 'accepted', 'a fractional exp is valid');
  });

  it('refuses malformed tokens without throwing anything but a TokenError', () => {
    for (const token of ['', 'abc', 'a.b', 'a.b.c', '..', `${b64('x')}.${b64(1)}.x`, 'é.é.é']) {
      assert.equal(problem(token), 'malformed', token);
    }
  });
});

describe('the authenticator’s memory of verified tokens', () => {
  const request = (token: string) =>
    new Request('http://x/api/jobs', { headers: { Authorization: `Bearer ${token}` } });
  const refusal = async (promise: Promise<unknown>) => {
    try {
      await promise;
      return 'accepted';
    } catch (error) {
      assert.ok(error instanceof ApiError, 'an ApiError');
      return `${error.status} ${error.code}`;
    }
  };

  it('answers a token it verified before from memory, but never past its expiry, and never a forged twin', async () => {
    let now = Date.now();
    const auth = createAuthenticator({ secret, now: () => now });
    const token = signToken({ sub: 'alice', expiresInSeconds: 60 }, secret, now);
    assert.deepEqual(await auth.user(request(token)), {
      ownerId: 'alice',
      expiresAt: (Math.floor(now / 1000) + 60) * 1000,
    });
    assert.equal((await auth.user(request(token))).ownerId, 'alice', 'again, from memory');
    const [head, payload] = token.split('.');
    assert.equal(await refusal(auth.user(request(`${head}.${payload}.forged`))), '401 invalid_token');
    now += 66_000; // past the expiry and its 5 s leeway
    assert.equal(await refusal(auth.user(request(token))), '401 token_expired');
  });
});
