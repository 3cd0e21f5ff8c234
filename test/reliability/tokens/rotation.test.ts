import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, describe, it } from 'node:test';
import { type RunningServer, signToken, startServer } from '@jobtracker/server';
import { USER } from './fixture.js';

describe('secret rotation, issuer and audience', () => {
  const OLD = randomBytes(32).toString('hex');
  const NEW = randomBytes(32).toString('hex');
  const servers: RunningServer[] = [];
  after(async () => {
    await Promise.all(servers.map((server) => server.close()));
  });
  async function serve(options: { secret: string | string[]; issuer?: string; audience?: string }) {
    const server = await startServer({
      port: 0,
      db: ':memory:',
      heartbeatMs: 1000,
      onError: () => {},
      ...options,
    });
    servers.push(server);
    return server;
  }
  /** The status (and error code, if refused) of a list and of a stream request with `token`. */
  async function answers(server: RunningServer, token: string) {
    return Promise.all(
      ['/api/jobs', '/api/jobs/stream'].map(async (path) => {
        const controller = new AbortController();
        const response = await fetch(`${server.url}${path}`, {
          headers: { Authorization: `Bearer ${token}` },
          signal: controller.signal,
        });
        if (response.ok) {
          controller.abort();
          return `${response.status}`;
        }
        const { error } = (await response.json()) as { error: { code: string; message: string } };
        assert.doesNotMatch(error.message, new RegExp(`${OLD}|${NEW}|evil`), 'no secret or claim echoed');
        return `${response.status} ${error.code}`;
      }),
    );
  }

  it('accepts a token signed with the old secret while both are listed, and refuses it after', async () => {
    const old = signToken({ sub: USER }, OLD);
    const fresh = signToken({ sub: USER }, NEW);
    const both = await serve({ secret: [NEW, OLD] });
    assert.deepEqual(await answers(both, old), ['200', '200'], 'old token, both secrets listed');
    assert.deepEqual(await answers(both, fresh), ['200', '200'], 'new token, both secrets listed');
    const rotated = await serve({ secret: [NEW] });
    const refused = ['401 invalid_token', '401 invalid_token'];
    assert.deepEqual(await answers(rotated, old), refused, 'old token, only the new secret listed');
    assert.deepEqual(await answers(rotated, fresh), ['200', '200'], 'new token, only the new secret listed');
  });

  it('refuses a token without the issuer or audience the server asks for, and ignores them when unset', async () => {
    const strict = await serve({ secret: NEW, issuer: 'https://idp.example', audience: 'jobtracker' });
    const lax = await serve({ secret: NEW });
    const token = (claims: { issuer?: string; audience?: string | string[] }) =>
      signToken({ sub: USER, ...claims }, NEW);
    const refused = ['401 invalid_token', '401 invalid_token'];
    const cases: [
      claims: { issuer?: string; audience?: string | string[] },
      strictly: string[],
      what: string,
    ][] = [
      [{}, refused, 'neither'],
      [{ audience: 'jobtracker' }, refused, 'no issuer'],
      [{ issuer: 'https://idp.example' }, refused, 'no audience'],
      [{ issuer: 'https://evil.example', audience: 'jobtracker' }, refused, 'another issuer'],
      [{ issuer: 'https://idp.example', audience: 'evil-api' }, refused, 'another audience'],
      [{ issuer: 'https://idp.example', audience: 'jobtracker' }, ['200', '200'], 'both right'],
      [
        { issuer: 'https://idp.example', audience: ['evil', 'jobtracker'] },
        ['200', '200'],
        'ours among audiences',
      ],
    ];
    for (const [claims, strictly, what] of cases) {
      assert.deepEqual(await answers(strict, token(claims)), strictly, `issuer and audience set: ${what}`);
      assert.deepEqual(await answers(lax, token(claims)), ['200', '200'], `unset: ${what}`);
    }
  });
});
