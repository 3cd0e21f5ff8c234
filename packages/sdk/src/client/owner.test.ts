import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { knownOwner, ownerKey, tokenOwner } from './owner.js';

/** An unsigned JWT with these claims: the client reads claims without verifying them. */
const jwt = (claims: object) =>
  `${btoa('{"alg":"none"}')}.${Buffer.from(JSON.stringify(claims)).toString('base64url')}.`;

describe('job owner', () => {
  it('reads the owner from the sub of a token, and none from a token without a readable one', () => {
    assert.equal(tokenOwner(jwt({ sub: 'alice' })), 'alice', 'a string sub');
    assert.equal(tokenOwner(jwt({ sub: 42 })), '42', 'a numeric sub');
    assert.equal(tokenOwner(jwt({ exp: 1 })), null, 'no sub');
    assert.equal(tokenOwner(jwt({ sub: '' })), null, 'an empty sub');
    assert.equal(tokenOwner('not-a-jwt'), null, 'an opaque token');
    assert.equal(tokenOwner(null), null, 'no token');
  });

  it('knows the owner from the user option, a token string or no token at all, and waits for a token function', () => {
    assert.equal(knownOwner('bob', jwt({ sub: 'alice' })), 'bob', 'the user option wins');
    assert.equal(knownOwner(undefined, jwt({ sub: 'alice' })), 'alice', "a token string's sub");
    assert.equal(knownOwner(undefined, 'opaque'), null, 'a token without an owner: nothing kept');
    assert.equal(knownOwner(undefined, undefined), 'default', "no token: the browser's anonymous user");
    assert.equal(knownOwner(undefined, null), 'default', 'a null token is no token');
    assert.equal(
      knownOwner(undefined, () => 'token'),
      undefined,
      'a token function must be asked first',
    );
    assert.equal(
      knownOwner('carol', () => 'token'),
      'carol',
      'unless the user option names the owner',
    );
  });

  it('keys what the browser keeps by API and owner', () => {
    assert.equal(ownerKey('https://jobs.test/api', 'alice'), 'jobtracker:https://jobs.test/api:alice');
  });
});
