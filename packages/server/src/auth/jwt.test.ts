import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { describe, it } from 'node:test';
import { assertAuthConfigured, JobTrackerConfigError } from '../app/dev-mode.js';
import { ApiError } from '../http/errors.js';
import { createAuthenticator } from './auth.js';
import { signToken, TokenError, type VerifyOptions, verifyToken } from './jwt.js';

const secret = 'k'.repeat(32);
const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
function forge(header: unknown, payload: unknown, key = secret) {
  const head = `${b64(header)}.${b64(payload)}`;
  return `${head}.${createHmac('sha256', key).update(head).digest('base64url')}`;
}
/** Why `verifyToken` refuses a token (`accepted` if it does not), with the message it gives. */
const refusal = async (token: string, options: VerifyOptions = {}, secrets: string | string[] = secret) => {
  try {
    await verifyToken(token, secrets, options);
    return { problem: 'accepted', message: '' };
  } catch (error) {
    assert.ok(error instanceof TokenError, `a TokenError, not ${error}`);
    return { problem: error.problem, message: error.message };
  }
};
const problem = async (token: string, now = Date.now()) => (await refusal(token, { now })).problem;

describe('HS256 tokens', () => {
  it('accepts a token it signed and returns its subject', async () => {
    const claims = await verifyToken(signToken({ sub: 'alice', expiresInSeconds: 60 }, secret), secret);
    assert.equal(claims.sub, 'alice', 'the subject of the token');
  });

  it('refuses expired, forged, unsigned and subject-less tokens', async () => {
    const now = Date.now();
    const exp = Math.floor(now / 1000) + 60;
    const cases: [token: string, expected: string, what: string][] = [
      [signToken({ sub: 'a', expiresInSeconds: 60 }, secret, now - 3_600_000), 'expired', 'expired'],
      [signToken({ sub: 'a' }, 'another-secret'), 'signature', 'another secret'],
      [forge({ alg: 'none', typ: 'JWT' }, { sub: 'a', exp }), 'algorithm', 'alg none, signed'],
      [`${b64({ alg: 'none' })}.${b64({ sub: 'a', exp })}.`, 'algorithm', 'alg none, unsigned'],
      [forge({ alg: 'HS512' }, { sub: 'a', exp }), 'algorithm', 'alg HS512'],
      [forge({ typ: 'JWT' }, { sub: 'a', exp }), 'algorithm', 'no alg'],
      [forge({ alg: 'HS256' }, { exp }), 'claims', 'no sub'],
      [forge({ alg: 'HS256' }, { sub: '', exp }), 'claims', 'empty sub'],
      [forge({ alg: 'HS256' }, { sub: 42, exp }), 'claims', 'numeric sub'],
      [forge({ alg: 'HS256' }, { sub: 'x'.repeat(201), exp }), 'claims', 'sub over 200 characters'],
      [forge({ alg: 'HS256' }, { sub: 'a' }), 'claims', 'no exp'],
      [forge({ alg: 'HS256' }, { sub: 'a', exp: String(exp) }), 'claims', 'string exp'],
      [forge({ alg: 'HS256' }, { sub: 'a', exp, nbf: exp }), 'not_yet_valid', 'nbf a minute ahead'],
      [forge({ alg: 'HS256' }, { sub: 'a', exp }), 'accepted', 'a good token'],
    ];
    for (const [token, expected, what] of cases) assert.equal(await problem(token, now), expected, what);
  });

  it('allows 5 s of clock skew on exp and nbf, and no more', async () => {
    const now = Date.now();
    const seconds = Math.floor(now / 1000);
    assert.equal(await problem(forge({ alg: 'HS256' }, { sub: 'a', exp: seconds - 4 }), now), 'accepted');
    assert.equal(await problem(forge({ alg: 'HS256' }, { sub: 'a', exp: seconds - 6 }), now), 'expired');
    const nbf = (offset: number) =>
      forge({ alg: 'HS256' }, { sub: 'a', exp: seconds + 60, nbf: seconds + offset });
    assert.equal(await problem(nbf(4), now), 'accepted', 'nbf 4 s ahead is within the skew');
    assert.equal(await problem(nbf(6), now), 'not_yet_valid', 'nbf 6 s ahead is past the skew');
  });

  it('refuses an expiry that is not a real time: infinite, negative or past the year 9999', async () => {
    const withExp = (exp: string) => {
      const head = `${b64({ alg: 'HS256' })}.${Buffer.from(`{"sub":"a","exp":${exp}}`).toString('base64url')}`;
      return `${head}.${createHmac('sha256', secret).update(head).digest('base64url')}`;
    };
    for (const exp of ['1e400', '-1e400', '253402300800', '1e300', '-5']) {
      assert.equal(await problem(withExp(exp)), 'claims', `exp ${exp} is refused`);
    }
    assert.equal(
      await problem(withExp('253402300799')),
      'accepted',
      'the last second of 9999 is a real expiry',
    );
    assert.equal(
      await problem(withExp(String(Date.now() / 1000 + 60.5))),
      'accepted',
      'a fractional exp is valid',
    );
  });

  it('refuses malformed tokens without throwing anything but a TokenError', async () => {
    const notJson = `${b64({ alg: 'HS256' })}.${Buffer.from('{sub:').toString('base64url')}`;
    for (const token of [
      '',
      'abc',
      'a.b',
      'a.b.c',
      '..',
      `${b64('x')}.${b64(1)}.x`,
      'é.é.é',
      `${notJson}.${createHmac('sha256', secret).update(notJson).digest('base64url')}`,
      forge({ alg: 'HS256' }, null),
      forge({ alg: 'HS256' }, 'alice'),
      forge({ alg: 'HS256', crit: ['b64'], b64: false }, { sub: 'a', exp: 2e9 }),
    ]) {
      assert.equal(await problem(token), 'malformed', token);
    }
  });

  it('gives the same message for each refusal as before, and never the token’s content', async () => {
    const exp = Math.floor(Date.now() / 1000) + 60;
    const messages: [token: string, message: string][] = [
      ['a.b', 'The token is not a JWT.'],
      [forge({ alg: 'none' }, { sub: 'a', exp }), 'The token must be signed with HS256.'],
      [forge({ alg: 'HS256' }, { sub: 'a', exp }, 'other'), 'The token signature is not valid.'],
      [forge({ alg: 'HS256' }, { sub: 'a' }), 'The token has no expiry (exp).'],
      [
        forge({ alg: 'HS256' }, { sub: 'a', exp: 1e300 }),
        'The token’s expiry (exp) is not a time between 1970 and 9999.',
      ],
      [forge({ alg: 'HS256' }, { sub: 'a', exp: exp - 3600 }), 'The token has expired.'],
      [forge({ alg: 'HS256' }, { sub: 'a', exp, nbf: exp }), 'The token is not valid yet.'],
      [forge({ alg: 'HS256' }, { sub: '', exp }), 'The token has no subject (sub).'],
    ];
    for (const [token, message] of messages) assert.equal((await refusal(token)).message, message, token);
    const nosy = forge({ alg: 'HS256' }, { sub: 'a', exp, iss: 'secret-issuer-xyz', aud: 'secret-aud-xyz' });
    const refused = await refusal(nosy, { issuer: 'https://auth.example', audience: 'jobs' });
    assert.equal(refused.problem, 'claims', 'a wrong issuer is refused');
    assert.doesNotMatch(refused.message, /xyz/, 'the message does not echo the token’s claims');
  });
});

describe('secret rotation', () => {
  const oldSecret = 'o'.repeat(32);
  const newSecret = 'n'.repeat(32);

  it('verifies a token signed with any listed secret, and signs with the first', async () => {
    const old = signToken({ sub: 'alice' }, oldSecret);
    assert.equal((await verifyToken(old, [newSecret, oldSecret])).sub, 'alice', 'old, while both are listed');
    assert.equal((await refusal(old, {}, [newSecret])).problem, 'signature', 'old, once only the new one is');
    const fresh = signToken({ sub: 'bob' }, [newSecret, oldSecret]);
    assert.equal((await verifyToken(fresh, newSecret)).sub, 'bob', 'signed with the first secret');
    assert.equal((await refusal(fresh, {}, oldSecret)).problem, 'signature', 'not with the second');
  });

  it('does not let a claim error under one secret fall through to another', async () => {
    const expired = signToken({ sub: 'a', expiresInSeconds: 60 }, oldSecret, Date.now() - 3_600_000);
    assert.equal(
      (await refusal(expired, {}, [newSecret, oldSecret])).problem,
      'expired',
      'expired, not forged',
    );
  });

  it('refuses to verify with no secret at all', async () => {
    await assert.rejects(
      verifyToken(signToken({ sub: 'a' }, secret), []),
      TypeError,
      'an empty list is a bug',
    );
    assert.throws(() => signToken({ sub: 'a' }, ['']), TypeError, 'an empty secret cannot sign');
  });
});

describe('issuer and audience', () => {
  const exp = () => Math.floor(Date.now() / 1000) + 60;
  const options = { issuer: 'https://auth.example', audience: 'jobtracker' };

  it('are checked when set: a token without them or with others is refused', async () => {
    const cases: [claims: Record<string, unknown>, expected: string, what: string][] = [
      [{}, 'claims', 'neither'],
      [{ iss: options.issuer }, 'claims', 'no aud'],
      [{ aud: options.audience }, 'claims', 'no iss'],
      [{ iss: 'https://evil.example', aud: options.audience }, 'claims', 'another iss'],
      [{ iss: options.issuer, aud: 'another-api' }, 'claims', 'another aud'],
      [{ iss: options.issuer, aud: ['another-api'] }, 'claims', 'aud list without ours'],
      [{ iss: [options.issuer], aud: options.audience }, 'claims', 'iss as a list'],
      [{ iss: options.issuer, aud: options.audience }, 'accepted', 'both right'],
      [{ iss: options.issuer, aud: ['another-api', options.audience] }, 'accepted', 'aud list with ours'],
    ];
    for (const [claims, expected, what] of cases) {
      const token = forge({ alg: 'HS256' }, { sub: 'a', exp: exp(), ...claims });
      assert.equal((await refusal(token, options)).problem, expected, what);
    }
    assert.equal(
      (await refusal(forge({ alg: 'HS256' }, { sub: 'a', exp: exp() }), options)).message,
      'The token’s issuer (iss) is not the one this server accepts.',
    );
    assert.equal(
      (await refusal(forge({ alg: 'HS256' }, { sub: 'a', exp: exp(), iss: options.issuer }), options))
        .message,
      'The token’s audience (aud) does not include this server.',
    );
  });

  it('are not checked when unset', async () => {
    for (const claims of [
      {},
      { iss: 'https://anyone.example', aud: 'anything' },
      { iss: 'x', aud: ['y', 'z'] },
    ]) {
      const token = forge({ alg: 'HS256' }, { sub: 'a', exp: exp(), ...claims });
      assert.equal((await refusal(token)).problem, 'accepted', JSON.stringify(claims));
    }
  });

  it('are set by signToken when asked', async () => {
    const token = signToken({ sub: 'alice', ...options }, secret);
    const claims = await verifyToken(token, secret, options);
    assert.deepEqual([claims.iss, claims.aud], [options.issuer, options.audience], 'iss and aud claims');
    assert.equal('issuer' in claims || 'audience' in claims, false, 'only the registered claim names');
  });
});

describe('the authenticator’s memory of verified tokens', () => {
  const request = (token: string) =>
    new Request('http://x/api/jobs', { headers: { Authorization: `Bearer ${token}` } });
  const apiRefusal = async (promise: Promise<unknown>) => {
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
    assert.deepEqual(
      await auth.user(request(token)),
      { ownerId: 'alice', expiresAt: (Math.floor(now / 1000) + 60) * 1000 },
      'the owner and expiry of the token',
    );
    assert.equal((await auth.user(request(token))).ownerId, 'alice', 'again, from memory');
    const [head, payload] = token.split('.');
    assert.equal(
      await apiRefusal(auth.user(request(`${head}.${payload}.forged`))),
      '401 invalid_token',
      'forged',
    );
    now += 66_000; // past the expiry and its 5 s leeway
    assert.equal(await apiRefusal(auth.user(request(token))), '401 token_expired', 'expired');
  });

  it('verifies with every listed secret and checks issuer and audience when set', async () => {
    const auth = createAuthenticator({
      secret: ['new-secret', 'old-secret'],
      issuer: 'idp',
      audience: 'jobs',
    });
    const good = signToken({ sub: 'alice', issuer: 'idp', audience: 'jobs' }, 'old-secret');
    assert.equal((await auth.user(request(good))).ownerId, 'alice', 'signed with the old secret');
    const noAudience = signToken({ sub: 'alice', issuer: 'idp' }, 'new-secret');
    assert.equal(await apiRefusal(auth.user(request(noAudience))), '401 invalid_token', 'no audience');
  });

  it('counts an empty secret list as no secret', () => {
    assert.equal(createAuthenticator({ secret: [] }).devMode, true, 'no secret: dev mode');
    assert.equal(createAuthenticator({ secret: ['', ''] }).devMode, true, 'empty secrets: dev mode');
    for (const secrets of [[], ['']]) {
      assert.throws(
        () => assertAuthConfigured({ secret: secrets }),
        JobTrackerConfigError,
        JSON.stringify(secrets),
      );
    }
    assert.doesNotThrow(() => assertAuthConfigured({ secret: ['s'] }), 'a listed secret is enough');
  });
});
