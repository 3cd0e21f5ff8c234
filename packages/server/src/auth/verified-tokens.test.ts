import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ApiError } from '../http/errors.js';
import { createAuthenticator } from './auth.js';
import { signToken } from './jwt.js';
import { VerifiedTokens } from './verified-tokens.js';

const SECRET = 'verified-tokens-secret-0123456789abcdef';
const OTHER_SECRET = 'another-secret-entirely-0123456789abcdef';
const request = (token: string) =>
  new Request('http://x/api/jobs', { headers: { Authorization: `Bearer ${token}` } });

async function refusal(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
  } catch (error) {
    assert.ok(error instanceof ApiError, 'refused with an API error');
    return `${error.status} ${error.code}`;
  }
  assert.fail('the token was accepted');
}

describe('verified tokens', () => {
  it('answers a remembered caller until its expiry, never at or after it', () => {
    let now = 1_000;
    const cache = new VerifiedTokens(10, () => now);
    cache.remember('t', { ownerId: 'alice', expiresAt: 2_000 });
    assert.deepEqual(cache.get('t'), { ownerId: 'alice', expiresAt: 2_000 });
    now = 2_000;
    assert.equal(cache.get('t'), undefined, 'not at its expiry');
    now = 1_500;
    assert.equal(cache.get('t'), undefined, 'an expired entry is gone');
    assert.equal(cache.get('other'), undefined);
  });

  it('keeps at most its capacity, the least recently used going first', () => {
    const cache = new VerifiedTokens(2, () => 0);
    cache.remember('a', { ownerId: 'a', expiresAt: 10 });
    cache.remember('b', { ownerId: 'b', expiresAt: 10 });
    assert.ok(cache.get('a'), 'a is used, so b is now the oldest');
    cache.remember('c', { ownerId: 'c', expiresAt: 10 });
    assert.equal(cache.size, 2);
    assert.ok(cache.get('a'), 'a stays');
    assert.equal(cache.get('b'), undefined, 'b went');
    assert.ok(cache.get('c'), 'c stays');
  });

  it('lets the authenticator refuse a cached token once it expired', async () => {
    let now = Date.now();
    const auth = createAuthenticator({ secret: SECRET, now: () => now });
    const token = signToken({ sub: 'alice', expiresInSeconds: 60 }, SECRET, now);
    assert.equal((await auth.user(request(token))).ownerId, 'alice');
    assert.equal((await auth.user(request(token))).ownerId, 'alice', 'answered again, from the cache');
    now += 120_000;
    assert.equal(await refusal(auth.user(request(token))), '401 token_expired');
  });

  it('does not let a token verified under one secret through an authenticator with another', async () => {
    const mine = createAuthenticator({ secret: SECRET });
    const theirs = createAuthenticator({ secret: OTHER_SECRET });
    const token = signToken({ sub: 'alice', expiresInSeconds: 60 }, SECRET);
    assert.equal((await mine.user(request(token))).ownerId, 'alice');
    assert.equal(await refusal(theirs.user(request(token))), '401 invalid_token');
    const forged = signToken({ sub: 'alice', expiresInSeconds: 60 }, OTHER_SECRET);
    assert.equal(await refusal(mine.user(request(forged))), '401 invalid_token', 'nor the other way round');
  });
});
