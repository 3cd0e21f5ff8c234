// Scenario 9 of issue 7: expired, forged, unsigned and subject-less tokens are refused with 401 on every
// owner route, and user tokens on the worker API.

import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import type { Job } from '@jobtracker/sdk';
import { createWorkerApi } from '@jobtracker/sdk/worker';
import type { RunningServer } from '@jobtracker/server';
import { signToken } from '@jobtracker/server';
import {
  b64,
  forge,
  HS256,
  now,
  SECRET,
  startTokensServer,
  type TokensServer,
  USER,
  valid,
  WORKER_KEY,
} from './fixture.js';

describe('tokens: refusals', () => {
  let server: RunningServer;
  let goodToken: string;
  let job: Job;
  let send: TokensServer['send'];
  let assertRefused: TokensServer['assertRefused'];
  let fixture: TokensServer;

  before(async () => {
    fixture = await startTokensServer();
    ({ server, goodToken, job, send, assertRefused } = fixture);
  });

  after(() => fixture.close());

  it('refuses bad credentials with 401 and a JSON error on list, get, create and stream', async (t) => {
    const long = 'x'.repeat(201);
    const cases: [name: string, authorization: string | null, code: string, query?: string][] = [
      ['no Authorization header', null, 'unauthorized'],
      ['"Bearer" with no token', 'Bearer', 'unauthorized'],
      ['"Bearer " and spaces', 'Bearer    ', 'unauthorized'],
      ['Basic credentials', `Basic ${Buffer.from(`${USER}:pw`).toString('base64')}`, 'unauthorized'],
      ['a valid token without the Bearer scheme', goodToken, 'unauthorized'],
      ['a valid token then another word', `Bearer ${goodToken} extra`, 'unauthorized'],
      ['a valid token in ?access_token=', null, 'unauthorized', `access_token=${goodToken}`],
      ['a valid token in ?token=', null, 'unauthorized', `token=${goodToken}`],
      ['a valid token in ?authorization=', null, 'unauthorized', `authorization=Bearer%20${goodToken}`],
      [
        'expired an hour ago',
        `Bearer ${signToken({ sub: USER, expiresInSeconds: 60 }, SECRET, Date.now() - 3_600_000)}`,
        'token_expired',
      ],
      ['expired a minute ago', `Bearer ${forge(HS256, { sub: USER, exp: now() - 60 })}`, 'token_expired'],
      // The verifier allows 5 s of clock skew; 10 s is past it.
      ['expired 10 s ago', `Bearer ${forge(HS256, { sub: USER, exp: now() - 10 })}`, 'token_expired'],
      [
        'signed with another secret',
        `Bearer ${signToken({ sub: USER, expiresInSeconds: 3600 }, `${SECRET}x`)}`,
        'invalid_token',
      ],
      ['signed with an empty secret', `Bearer ${forge(HS256, valid(), { secret: '' })}`, 'invalid_token'],
      [
        'claims changed after signing',
        `Bearer ${goodToken.split('.')[0]}.${b64({ ...valid(), sub: 'someone-else' })}.${goodToken.split('.')[2]}`,
        'invalid_token',
      ],
      ['no signature', `Bearer ${goodToken.split('.').slice(0, 2).join('.')}.`, 'invalid_token'],
      ['a truncated signature', `Bearer ${goodToken.slice(0, -4)}`, 'invalid_token'],
      [
        'alg none, no signature',
        `Bearer ${forge({ alg: 'none' }, valid(), { signature: '' })}`,
        'invalid_token',
      ],
      ['alg none, HS256 signature', `Bearer ${forge({ alg: 'none' }, valid())}`, 'invalid_token'],
      ['alg None', `Bearer ${forge({ alg: 'None' }, valid(), { signature: '' })}`, 'invalid_token'],
      ['alg NONE', `Bearer ${forge({ alg: 'NONE', typ: 'JWT' }, valid())}`, 'invalid_token'],
      ['alg hs256 (lower case)', `Bearer ${forge({ alg: 'hs256' }, valid())}`, 'invalid_token'],
      ['no alg', `Bearer ${forge({ typ: 'JWT' }, valid())}`, 'invalid_token'],
      [
        'alg HS512, signed HS512',
        `Bearer ${forge({ alg: 'HS512' }, valid(), { hash: 'sha512' })}`,
        'invalid_token',
      ],
      [
        'alg HS384, signed HS384',
        `Bearer ${forge({ alg: 'HS384' }, valid(), { hash: 'sha384' })}`,
        'invalid_token',
      ],
      ['alg RS256, HMAC signature', `Bearer ${forge({ alg: 'RS256' }, valid())}`, 'invalid_token'],
      [
        'alg RS256, random signature',
        `Bearer ${forge({ alg: 'RS256' }, valid(), { signature: randomBytes(256).toString('base64url') })}`,
        'invalid_token',
      ],
      ['alg ES256', `Bearer ${forge({ alg: 'ES256' }, valid())}`, 'invalid_token'],
      ['missing sub', `Bearer ${forge(HS256, { exp: now() + 3600 })}`, 'invalid_token'],
      ['empty sub', `Bearer ${forge(HS256, { sub: '', exp: now() + 3600 })}`, 'invalid_token'],
      ['numeric sub', `Bearer ${forge(HS256, { sub: 42, exp: now() + 3600 })}`, 'invalid_token'],
      ['null sub', `Bearer ${forge(HS256, { sub: null, exp: now() + 3600 })}`, 'invalid_token'],
      ['object sub', `Bearer ${forge(HS256, { sub: { id: USER }, exp: now() + 3600 })}`, 'invalid_token'],
      ['array sub', `Bearer ${forge(HS256, { sub: [USER], exp: now() + 3600 })}`, 'invalid_token'],
      ['boolean sub', `Bearer ${forge(HS256, { sub: true, exp: now() + 3600 })}`, 'invalid_token'],
      [
        'sub over 200 characters',
        `Bearer ${forge(HS256, { sub: long, exp: now() + 3600 })}`,
        'invalid_token',
      ],
      ['missing exp', `Bearer ${forge(HS256, { sub: USER, iat: now() })}`, 'invalid_token'],
      ['string exp', `Bearer ${forge(HS256, { sub: USER, exp: String(now() + 3600) })}`, 'invalid_token'],
      ['null exp', `Bearer ${forge(HS256, { sub: USER, exp: null })}`, 'invalid_token'],
      ['nbf an hour ahead', `Bearer ${forge(HS256, { ...valid(), nbf: now() + 3600 })}`, 'invalid_token'],
      ['claims that are null', `Bearer ${forge(HS256, null)}`, 'invalid_token'],
      ['claims that are a string', `Bearer ${forge(HS256, '"alice"')}`, 'invalid_token'],
      ['a header that is not JSON', `Bearer ${b64('{alg:')}.${b64(valid())}.x`, 'invalid_token'],
      ['garbage', 'Bearer garbage', 'invalid_token'],
      ['three dots of garbage', 'Bearer a.b.c', 'invalid_token'],
      ['two parts', `Bearer ${goodToken.split('.').slice(0, 2).join('.')}`, 'invalid_token'],
      ['four parts', `Bearer ${goodToken}.x`, 'invalid_token'],
      ['only dots', 'Bearer ..', 'invalid_token'],
      ['8 KiB of garbage', `Bearer ${'A'.repeat(8 * 1024)}`, 'invalid_token'],
      ['the worker key', `Bearer ${WORKER_KEY}`, 'invalid_token'],
    ];
    const routes: [name: string, method: string, path: string, body?: unknown][] = [
      ['list', 'GET', '/api/jobs'],
      ['get', 'GET', `/api/jobs/${job.id}`],
      ['create', 'POST', '/api/jobs', { type: 'tok.forged', title: 'should not exist', dedupe: false }],
      ['cancel', 'POST', `/api/jobs/${job.id}/cancel`],
      ['stream', 'GET', '/api/jobs/stream'],
    ];
    let refused = 0;
    await Promise.all(
      cases.flatMap(([name, authorization, code, query]) =>
        routes.map(async ([route, method, path, body]) => {
          const url = query ? `${path}?${query}` : path;
          assertRefused(await send(method, url, authorization, body), code, `${route} with ${name}`);
          refused++;
        }),
      ),
    );
    // The same routes answer with a good token, and none of the refused requests changed anything.
    const list = await send('GET', '/api/jobs', `Bearer ${goodToken}`);
    assert.equal(list.status, 200);
    assert.deepEqual(
      (JSON.parse(list.text) as { jobs: Job[] }).jobs.map((j) => [j.id, j.status, j.version]),
      [[job.id, 'pending', 1]],
      'no job was created or cancelled by a refused request',
    );
    t.diagnostic(
      `tokens: ${cases.length} bad credentials × ${routes.length} routes = ${refused} requests, all 401`,
    );
  });

  it('refuses user tokens on the worker API', async () => {
    const worker = createWorkerApi({ baseUrl: `${server.url}/api`, workerKey: WORKER_KEY });
    await send('POST', '/api/jobs', `Bearer ${goodToken}`, { type: 'tok.worker' });
    const claimed = await worker.claim({ types: ['tok.worker'], leaseMs: 60_000 });
    assert.ok(claimed, 'the job is claimed');
    const { leaseToken } = claimed;
    const id = claimed.job.id;
    const writes: [string, unknown][] = [
      ['/api/worker/claim', { types: ['tok.setup', 'tok.worker'] }],
      [`/api/worker/jobs/${id}/heartbeat`, { leaseToken }],
      [`/api/worker/jobs/${id}/progress`, { leaseToken, progress: 50, message: 'forged' }],
      ['/api/worker/progress', { updates: [{ id, leaseToken, progress: 60 }] }],
      [`/api/worker/jobs/${id}/complete`, { leaseToken, result: { url: '/forged' } }],
      [`/api/worker/jobs/${id}/fail`, { leaseToken, error: { message: 'forged' } }],
      [`/api/worker/jobs/${id}/release`, { leaseToken }],
    ];
    for (const [path, body] of writes) {
      for (const authorization of [
        `Bearer ${goodToken}`,
        `Bearer ${forge(HS256, { sub: WORKER_KEY, exp: now() + 3600 })}`,
        null,
        'Bearer',
        `Bearer ${WORKER_KEY}x`,
      ]) {
        const answer = await send('POST', path, authorization, body);
        assert.equal(answer.status, 401, `${path} with ${authorization?.slice(0, 20)}: ${answer.text}`);
        assert.match(answer.contentType, /^application\/json/);
        const parsed = JSON.parse(answer.text) as { error: { code: string } };
        assert.equal(parsed.error.code, 'unauthorized');
        assert.doesNotMatch(answer.text, /stack|\.[jt]s:\d+/);
      }
    }
    const after = await send('GET', `/api/jobs/${id}`, `Bearer ${goodToken}`);
    const current = (JSON.parse(after.text) as { job: Job }).job;
    assert.deepEqual(
      [current.status, current.version, current.progress],
      ['running', claimed.job.version, null],
    );
    assert.equal((await send('GET', `/api/jobs/${job.id}`, `Bearer ${goodToken}`)).status, 200);
    await worker.complete(id, leaseToken, null);
  });
});
