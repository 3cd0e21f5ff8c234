// Scenario 9 of issue 7: expired, forged, unsigned and subject-less tokens are refused with 401 on every
// owner route (and user tokens on the worker API); a token that expires mid-stream ends that stream; a
// client whose token function hands out short-lived tokens resumes after each expiry without a gap.

import assert from 'node:assert/strict';
import { createHmac, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { createJobClient, type Job } from '@jobtracker/sdk';
import { createWorkerApi } from '@jobtracker/sdk/worker';
import { type RunningServer, signToken, startServer } from '@jobtracker/server';
import { createSseParser } from '@jobtracker/test-support/sdk-internals';
import { eventually, SseReader } from '@jobtracker/test-support/server';

const SECRET = randomBytes(32).toString('hex');
const WORKER_KEY = randomBytes(16).toString('hex');
const USER = `user-${randomBytes(4).toString('hex')}`;
const MARK = `tmark${randomBytes(5).toString('hex')}`;
const dir = mkdtempSync(join(tmpdir(), 'jobtracker-tokens-'));

const b64 = (value: unknown) =>
  Buffer.from(typeof value === 'string' ? value : JSON.stringify(value)).toString('base64url');
const now = () => Math.floor(Date.now() / 1000);

/** A JWT with any header and claims, signed with HMAC (`hash`) under `secret`, or with `signature` as given. */
function forge(
  header: unknown,
  claims: unknown,
  {
    secret = SECRET,
    hash = 'sha256',
    signature,
  }: { secret?: string; hash?: string; signature?: string } = {},
) {
  const head = `${b64(header)}.${b64(claims)}`;
  return `${head}.${signature ?? createHmac(hash, secret).update(head).digest('base64url')}`;
}
const HS256 = { alg: 'HS256', typ: 'JWT' };
const valid = () => ({ sub: USER, iat: now(), exp: now() + 3600 });

describe('tokens', () => {
  let server: RunningServer;
  const goodToken = signToken({ sub: USER, expiresInSeconds: 3600 }, SECRET);
  let job: Job;

  before(async () => {
    server = await startServer({
      port: 0,
      db: `file:${join(dir, 'tokens.db')}`,
      secret: SECRET,
      workerKey: WORKER_KEY,
      heartbeatMs: 1000,
      retryMs: 200,
      onError: () => {},
    });
    const response = await fetch(`${server.url}/api/jobs`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${goodToken}`, 'Content-Type': 'application/json' },
      body: JSON.stringify({ type: 'tok.setup', title: `${MARK} title` }),
    });
    assert.equal(response.status, 201);
    job = ((await response.json()) as { job: Job }).job;
  });

  after(async () => {
    await server.close();
    rmSync(dir, { recursive: true, force: true });
  });

  /** A request with a raw `Authorization` header (or none), answered as text. */
  async function send(method: string, path: string, authorization: string | null, body?: unknown) {
    const response = await fetch(`${server.url}${path}`, {
      method,
      headers: {
        ...(authorization === null ? {} : { Authorization: authorization }),
        ...(body === undefined ? {} : { 'Content-Type': 'application/json' }),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: AbortSignal.timeout(10_000),
    });
    return {
      status: response.status,
      contentType: response.headers.get('content-type') ?? '',
      wwwAuthenticate: response.headers.get('www-authenticate'),
      text: await response.text(),
    };
  }

  /** Checks a refusal: 401, a JSON error body with `code`, the Bearer challenge, no stack, no job data. */
  function assertRefused(answer: Awaited<ReturnType<typeof send>>, code: string, what: string) {
    assert.equal(answer.status, 401, `${what}: ${answer.text.slice(0, 200)}`);
    assert.match(answer.contentType, /^application\/json/, what);
    assert.equal(answer.wwwAuthenticate, 'Bearer', what);
    const body = JSON.parse(answer.text) as { error: { code: string; message: string } };
    assert.deepEqual(Object.keys(body), ['error'], what);
    assert.equal(body.error.code, code, what);
    assert.equal(typeof body.error.message, 'string', what);
    assert.ok(body.error.message.length > 0 && body.error.message.length < 200, what);
    assert.doesNotMatch(answer.text, /stack|\bat [\w.<]+ \(|\.[jt]s:\d+|node:internal|TokenError/, what);
    assert.equal(answer.text.includes(MARK) || answer.text.includes(job.id), false, `${what}: no job data`);
  }

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

  it('ends a stream when its token expires, within a second of its expiry', async (t) => {
    const opened: { reader: SseReader; exp: number; controller: AbortController }[] = [];
    for (const lifetime of [1, 2, 3]) {
      const token = signToken({ sub: USER, expiresInSeconds: lifetime }, SECRET);
      const exp = (
        JSON.parse(Buffer.from(token.split('.')[1] as string, 'base64url').toString()) as { exp: number }
      ).exp;
      const controller = new AbortController();
      const response = await fetch(`${server.url}/api/jobs/stream`, {
        headers: { Authorization: `Bearer ${token}` },
        signal: controller.signal,
      });
      assert.equal(response.status, 200);
      opened.push({ reader: new SseReader(response), exp: exp * 1000, controller });
    }
    try {
      for (const { reader } of opened) await reader.until(() => reader.ready.length === 1, 3000, 'ready');
      // Still live before expiry: a change reaches every stream.
      const created = await send('POST', '/api/jobs', `Bearer ${goodToken}`, { type: 'tok.expiry' });
      const createdId = (JSON.parse(created.text) as { job: Job }).job.id;
      for (const { reader } of opened) {
        await reader.until(() => reader.jobs().some((j) => j.id === createdId), 3000, 'a live event');
      }
      const lateness: number[] = [];
      for (const { reader, exp } of opened) {
        await reader.ended$();
        const endedAt = Date.now();
        assert.ok(endedAt >= exp - 20, `the stream ended ${exp - endedAt} ms before its token expired`);
        assert.ok(endedAt <= exp + 1000, `the stream ended ${endedAt - exp} ms after its token expired`);
        lateness.push(endedAt - exp);
        // The streams of later expiries are still open.
        for (const other of opened) if (other.exp > exp + 100) assert.equal(other.reader.ended, false);
      }
      t.diagnostic(`streams ended ${lateness.join(', ')} ms after their tokens expired`);
      await eventually(() => server.tracker.streams.connections.size === 0, 2000, 'the server to drop them');
    } finally {
      for (const { controller } of opened) controller.abort();
    }
  });

  it('resumes with a refreshed token after every expiry without missing or repeating a version', async (t) => {
    const started = Date.now();
    let issued = 0;
    const connections: { status: number; lastEventId: string | null; events: string[] }[] = [];
    /** (job id, version) of every `job` event on the wire, in order. */
    const wire: [string, number][] = [];
    const tap: typeof fetch = async (input, init) => {
      const response = await fetch(input, init);
      if (!String(input).includes('/jobs/stream')) return response;
      const headers = new Headers(init?.headers);
      const connection = {
        status: response.status,
        lastEventId: headers.get('last-event-id'),
        events: [] as string[],
      };
      connections.push(connection);
      if (!response.body) return response;
      const [mine, theirs] = response.body.tee();
      const feed = createSseParser(({ event, data }) => {
        connection.events.push(event);
        if (event === 'job') {
          const changed = JSON.parse(data) as Job;
          wire.push([changed.id, changed.version]);
        }
      });
      void (async () => {
        try {
          for await (const chunk of mine.pipeThrough(new TextDecoderStream())) feed(chunk);
        } catch {
          // aborted with the client's connection
        }
      })();
      return new Response(theirs, { status: response.status, headers: response.headers });
    };
    const client = createJobClient({
      baseUrl: `${server.url}/api`,
      transport: 'sse',
      storage: null,
      shareTabs: false,
      fetch: tap,
      token: () => {
        issued++;
        return signToken({ sub: USER, expiresInSeconds: 2 }, SECRET);
      },
    });
    const seen = new Map<string, number[]>();
    let previous: Record<string, Job> = {};
    const unsubscribe = client.$jobs.subscribe((jobs) => {
      for (const [id, changed] of Object.entries(jobs)) {
        if (changed !== previous[id]) seen.set(id, [...(seen.get(id) ?? []), changed.version]);
      }
      previous = jobs;
    });
    const worker = createWorkerApi({ baseUrl: `${server.url}/api`, workerKey: WORKER_KEY });
    try {
      await eventually(() => client.$connection.get().state === 'live', 3000, 'the client to go live');
      const created = await send('POST', '/api/jobs', `Bearer ${goodToken}`, {
        type: 'tok.refresh',
        title: 'Refreshed',
      });
      const id = (JSON.parse(created.text) as { job: Job }).job.id;
      const claimed = await worker.claim({ types: ['tok.refresh'], leaseMs: 60_000 });
      assert.equal(claimed?.job.id, id);
      const versions = [1, claimed.job.version];
      // Progress every 100 ms for 5.5 s: the client's 1–2 s tokens expire (and its stream ends) 3 to 5 times.
      for (let n = 1; Date.now() - started < 6000; n++) {
        const changed = await worker.progress(id, claimed.leaseToken, {
          progress: Math.min(99, n),
          message: `step ${n}`,
        });
        versions.push(changed.version);
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      const done = await worker.complete(id, claimed.leaseToken, { url: '/done' });
      versions.push(done.version);
      const last = done.version;
      assert.deepEqual(
        versions,
        Array.from({ length: last }, (_, i) => i + 1),
        'each worker write is one version',
      );
      await eventually(
        () => client.$jobs.get()[id]?.version === last,
        3000,
        'the client to hold the completed job',
      );
      assert.equal(client.$jobs.get()[id]?.status, 'completed');

      const expected = Array.from({ length: last }, (_, i) => i + 1);
      assert.deepEqual(seen.get(id), expected, 'the client’s store took every version once, in order');
      assert.deepEqual(
        wire.filter(([jobId]) => jobId === id).map(([, version]) => version),
        expected,
        'the streams carried every version once, in order',
      );
      assert.ok(
        connections.length >= 3,
        `the stream was reopened after each expiry (${connections.length} connections)`,
      );
      assert.deepEqual(
        connections.map((c) => c.status),
        connections.map(() => 200),
        'every reconnection was accepted',
      );
      for (const [i, connection] of connections.entries()) {
        if (i === 0) continue;
        assert.ok(connection.lastEventId, 'each reconnection resumes from its cursor');
        assert.ok(
          connection.events.every((event) => event === 'job' || event === 'ready'),
          `reconnection ${i} replayed (no snapshot or reset): ${connection.events.join(',')}`,
        );
      }
      t.diagnostic(
        `refresh: ${last} versions over ${connections.length} stream connections (${issued} tokens of 2 s), ` +
          `0 missed, 0 repeated, ${Date.now() - started} ms`,
      );
    } finally {
      unsubscribe();
    }
    await eventually(
      () => server.tracker.streams.connections.size === 0,
      3000,
      'the client’s stream to close',
    );
  });
});

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
