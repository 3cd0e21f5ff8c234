import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { caller, openTestTracker, TEST_DIALECT, tokenFor, WORKER_KEY } from '@jobtracker/test-support/server';
import type { JobTracker } from '../app/tracker.js';

describe('owner routes', () => {
  let tracker: JobTracker;
  let call: ReturnType<typeof caller>;
  const alice = tokenFor('alice');
  const bob = tokenFor('bob');
  before(async () => {
    tracker = await openTestTracker();
    call = caller(tracker.app);
  });
  after(() => tracker.close());

  it('creates a job (201) and answers a duplicate of an active one with it (200 and a flag)', async () => {
    const body = { type: 'demo.generate', scope: 'analysis-7', title: 'Q3 program', input: { depth: 2 } };
    const first = await call('/api/jobs', { body, token: alice });
    assert.equal(first.status, 201);
    assert.deepEqual(
      [first.json.created, first.json.job.status, first.json.job.version],
      [true, 'pending', 1],
    );
    assert.equal(
      'input' in first.json.job || 'ownerId' in first.json.job,
      false,
      'no input or owner on the wire',
    );
    const second = await call('/api/jobs', { body, token: alice });
    assert.deepEqual(
      [second.status, second.json.created, second.json.reason, second.json.job.id],
      [200, false, 'active_duplicate', first.json.job.id],
    );
  });

  it('creates one job for 50 concurrent identical requests', async () => {
    const responses = await Promise.all(
      Array.from({ length: 50 }, () =>
        call('/api/jobs', { body: { type: 'export', scope: 'race' }, token: alice }),
      ),
    );
    assert.equal(responses.filter((r) => r.status === 201).length, 1);
    assert.equal(responses.filter((r) => r.status === 200).length, 49);
    assert.equal(new Set(responses.map((r) => r.json.job.id)).size, 1);
  });

  it('honours Idempotency-Key under 50 concurrent requests, and refuses its reuse with another body', async () => {
    const body = { type: 'report', dedupe: false };
    const headers = { 'Idempotency-Key': 'order-42' };
    const responses = await Promise.all(
      Array.from({ length: 50 }, () => call('/api/jobs', { body, token: alice, headers })),
    );
    assert.equal(responses.filter((r) => r.status === 201).length, 1);
    assert.equal(new Set(responses.map((r) => r.json.job.id)).size, 1);
    assert.ok(
      responses.filter((r) => r.status === 200).every((r) => r.json.reason === 'idempotency_key'),
      "every replay answers with the key's job",
    );
    const reused = await call('/api/jobs', { body: { ...body, title: 'other' }, token: alice, headers });
    assert.deepEqual([reused.status, reused.json.error.code], [422, 'idempotency_key_reused']);
  });

  it('keeps each user to their own jobs in list, get, cancel and retry', async () => {
    const mine = await call('/api/jobs', { body: { type: 'secret.job', title: 'alice only' }, token: alice });
    const id = mine.json.job.id;
    const list = await call('/api/jobs?limit=200', { token: bob });
    assert.equal(list.status, 200);
    assert.equal(
      list.json.jobs.some((j: { id: string }) => j.id === id),
      false,
    );
    assert.equal(JSON.stringify(list.json).includes('alice only'), false);
    for (const [path, method] of [
      [`/api/jobs/${id}`, 'GET'],
      [`/api/jobs/${id}/cancel`, 'POST'],
      [`/api/jobs/${id}/retry`, 'POST'],
    ] as const) {
      const response = await call(path, { method, token: bob });
      assert.deepEqual([response.status, response.json.error.code], [404, 'not_found'], `${method} ${path}`);
      assert.equal(JSON.stringify(response.json).includes('alice only'), false);
    }
    const changes = await call('/api/jobs?since=0', { token: bob });
    assert.equal(JSON.stringify(changes.json).includes(id), false);
    assert.equal((await call(`/api/jobs/${id}`, { token: alice })).status, 200);
  });

  it('filters by status, type and scope, newest first, within the limit', async () => {
    const carol = tokenFor('carol');
    for (const scope of ['a', 'b', 'c'])
      await call('/api/jobs', { body: { type: 'f', scope }, token: carol });
    const cancelled = await call('/api/jobs', { body: { type: 'g' }, token: carol });
    await call(`/api/jobs/${cancelled.json.job.id}/cancel`, { method: 'POST', token: carol });
    const all = await call('/api/jobs', { token: carol });
    assert.deepEqual(
      all.json.jobs.map((j: { type: string; scope: string }) => j.scope ?? j.type),
      ['g', 'c', 'b', 'a'],
    );
    const active = await call('/api/jobs?status=active&type=f&limit=2', { token: carol });
    assert.deepEqual(
      active.json.jobs.map((j: { scope: string }) => j.scope),
      ['c', 'b'],
    );
    const finished = await call('/api/jobs?status=finished', { token: carol });
    assert.deepEqual(
      finished.json.jobs.map((j: { status: string }) => j.status),
      ['cancelled'],
    );
    const scoped = await call('/api/jobs?scope=b', { token: carol });
    assert.equal(scoped.json.jobs.length, 1);
  });

  it('pages through a long history with `before` and `next`: every job once, newest first, while new jobs arrive', async () => {
    const erin = tokenFor('erin');
    const made: string[] = [];
    for (let i = 0; i < 7; i++) {
      const created = await call('/api/jobs', { body: { type: 'page', scope: `s${i}` }, token: erin });
      made.push(created.json.job.id);
      await call(`/api/jobs/${created.json.job.id}/cancel`, { method: 'POST', token: erin });
    }
    // Another user's jobs, as new as erin's, never appear in her pages.
    await call('/api/jobs', { body: { type: 'page', scope: 'frank' }, token: tokenFor('frank') });
    const everything = await call('/api/jobs?limit=200', { token: erin });
    assert.equal(everything.json.next, null, 'no older job: next is null');
    const order = everything.json.jobs.map((job: { id: string }) => job.id);
    assert.deepEqual([...order].sort(), [...made].sort());

    const seen: string[] = [];
    let next: string | null = null;
    let pages = 0;
    do {
      const page = await call(`/api/jobs?status=finished&limit=3${next ? `&before=${next}` : ''}`, {
        token: erin,
      });
      assert.equal(page.status, 200, JSON.stringify(page.json));
      seen.push(...page.json.jobs.map((job: { id: string }) => job.id));
      next = page.json.next;
      assert.ok(next === null || typeof next === 'string', 'next is a token or null');
      if (pages === 0) {
        // A job that starts between two pages belongs before the first: it never shifts later pages.
        const fresh = await call('/api/jobs', { body: { type: 'page', scope: 'late' }, token: erin });
        await call(`/api/jobs/${fresh.json.job.id}/cancel`, { method: 'POST', token: erin });
      }
      pages++;
    } while (next && pages < 10);
    assert.deepEqual(seen, order, 'pages of 3 hold every job once, in the order of one long list');
    assert.equal(pages, 3);

    const exact = await call('/api/jobs?type=page&status=cancelled&limit=7', { token: erin });
    const tail = await call(`/api/jobs?type=page&status=cancelled&limit=7&before=${exact.json.next}`, {
      token: erin,
    });
    assert.equal(tail.status, 200);
    assert.equal(tail.json.jobs.length, 1, 'the late job was newer: one older job is left after 7');
  });

  it('refuses a bad page cursor with 400 invalid_query, and another user’s cursor shows only the caller’s jobs', async () => {
    const gina = tokenFor('gina');
    for (let i = 0; i < 3; i++)
      await call('/api/jobs', { body: { type: 'gp', scope: `g${i}` }, token: gina });
    const first = await call('/api/jobs?limit=1', { token: gina });
    assert.equal(typeof first.json.next, 'string');
    for (const bad of ['x', '!!!', 'bm90LWEtY3Vyc29y', encodeURIComponent('a'.repeat(500)), '']) {
      const response = await call(`/api/jobs?before=${bad}`, { token: gina });
      assert.equal(response.status, 400, `${bad}: ${JSON.stringify(response.json)}`);
      assert.equal(response.json.error.code, 'invalid_query');
    }
    const withSince = await call(`/api/jobs?since=0&before=${first.json.next}`, { token: gina });
    assert.deepEqual([withSince.status, withSince.json.error.code], [400, 'invalid_query']);
    const hank = await call(`/api/jobs?before=${first.json.next}`, { token: tokenFor('hank') });
    assert.deepEqual([hank.status, hank.json.jobs, hank.json.next], [200, [], null]);
  });

  it('answers an unchanged poll with 304, and a changed one with only what changed', async () => {
    const dave = tokenFor('dave');
    await call('/api/jobs', { body: { type: 'p1' }, token: dave });
    const first = await call('/api/jobs?since=0', { token: dave });
    assert.equal(first.status, 200);
    const etag = first.headers.get('etag') ?? '';
    const cursor = first.json.cursor;
    assert.ok(etag && cursor, 'an ETag and a cursor');
    const unchanged = await call(`/api/jobs?since=${cursor}`, {
      token: dave,
      headers: { 'If-None-Match': etag },
    });
    assert.equal(unchanged.status, 304);
    await call('/api/jobs', { body: { type: 'other-user-change' }, token: alice });
    const stillUnchanged = await call(`/api/jobs?since=${cursor}`, {
      token: dave,
      headers: { 'If-None-Match': etag },
    });
    assert.equal(stillUnchanged.status, 304, 'another user’s change does not wake this poll');
    const second = await call('/api/jobs', { body: { type: 'p2' }, token: dave });
    const changed = await call(`/api/jobs?since=${cursor}`, {
      token: dave,
      headers: { 'If-None-Match': etag },
    });
    assert.equal(changed.status, 200);
    assert.deepEqual(
      changed.json.jobs.map((j: { id: string }) => j.id),
      [second.json.job.id],
    );
    assert.ok(BigInt(changed.json.cursor) > BigInt(cursor), 'the cursor moves on');
    const full = await call('/api/jobs', { token: dave, headers: { 'If-None-Match': etag } });
    assert.equal(full.status, 200, 'a list ETag differs from a changes ETag');
  });

  it('answers bad input with a clear 4xx JSON error and no stack', async () => {
    const cases: [string, Parameters<typeof call>[1], number, string][] = [
      ['/api/jobs', { body: '{"type":', token: alice }, 400, 'invalid_json'],
      ['/api/jobs', { body: { type: 42 }, token: alice }, 422, 'invalid_request'],
      ['/api/jobs', { body: { type: 'ok', extra: true }, token: alice }, 422, 'invalid_request'],
      ['/api/jobs', { body: { type: 'bad type!' }, token: alice }, 422, 'invalid_request'],
      [
        '/api/jobs',
        { body: { type: 'ok', input: 'x'.repeat(70_000) }, token: alice },
        422,
        'invalid_request',
      ],
      ['/api/jobs', { body: [], token: alice }, 422, 'invalid_request'],
      ['/api/jobs', { body: 'null', token: alice }, 422, 'invalid_request'],
      ['/api/jobs', { body: { type: 'x'.repeat(300_000) }, token: alice }, 413, 'payload_too_large'],
      [
        '/api/jobs',
        { body: 'type=x', token: alice, headers: { 'Content-Type': 'text/plain' } },
        415,
        'unsupported_media_type',
      ],
      ['/api/jobs?limit=0', { token: alice }, 422, 'invalid_request'],
      ['/api/jobs?limit=abc', { token: alice }, 422, 'invalid_request'],
      ['/api/jobs?status=weird', { token: alice }, 422, 'invalid_request'],
      ['/api/jobs?since=-1', { token: alice }, 422, 'invalid_request'],
      ['/api/jobs?since=1&status=active', { token: alice }, 400, 'invalid_query'],
      ['/api/jobs?limit=1&limit=2', { token: alice }, 400, 'invalid_query'],
      ['/api/jobs?bogus=1', { token: alice }, 422, 'invalid_request'],
      ['/api/jobs/not-an-id', { token: alice }, 404, 'not_found'],
      ['/api/jobs/01m8k0x60974smd8gnmwwmw588', { token: alice }, 404, 'not_found'],
      ['/api/nothing-here', { token: alice }, 404, 'not_found'],
      ['/elsewhere', {}, 404, 'not_found'],
      [
        '/api/jobs',
        { body: { type: 'ok' }, token: alice, headers: { 'Idempotency-Key': 'k'.repeat(201) } },
        400,
        'invalid_idempotency_key',
      ],
    ];
    for (const [path, init, status, code] of cases) {
      const response = await call(path, init);
      assert.equal(
        response.status,
        status,
        `${path} ${JSON.stringify(init?.body)?.slice(0, 40)}: ${JSON.stringify(response.json)}`,
      );
      assert.equal(response.json.error.code, code, path);
      assert.equal(typeof response.json.error.message, 'string');
      assert.doesNotMatch(JSON.stringify(response.json), /\bat .*\.(ts|js):\d+/, 'no stack trace');
    }
  });

  it('refuses missing, malformed, forged and expired tokens with 401', async () => {
    const expired = tokenFor('alice', -60);
    const forged = `${alice.slice(0, -4)}AAAA`;
    for (const [token, code] of [
      [null, 'unauthorized'],
      ['garbage', 'invalid_token'],
      [forged, 'invalid_token'],
      [expired, 'token_expired'],
      [WORKER_KEY, 'invalid_token'],
    ] as const) {
      for (const path of ['/api/jobs', '/api/jobs/stream']) {
        const response = await call(path, { token });
        assert.deepEqual([response.status, response.json.error.code], [401, code], `${path} with ${token}`);
        assert.equal(response.headers.get('www-authenticate'), 'Bearer');
      }
    }
    const basic = await call('/api/jobs', { headers: { Authorization: 'Basic YTpi' } });
    assert.equal(basic.status, 401);
  });

  it('serves health, and an OpenAPI document of the create body and the list query', async () => {
    const health = await call('/api/health');
    assert.deepEqual(
      [health.status, health.json.status, health.json.storage],
      [200, 'ok', TEST_DIALECT],
      'health answers',
    );
    // Which routes the document names is checked against the app's own routes in openapi.test.ts.
    const doc = await call('/api/openapi.json');
    assert.equal(doc.json.openapi, '3.1.0', 'OpenAPI 3.1');
    const create = doc.json.paths['/api/jobs'].post.requestBody.content['application/json'].schema;
    assert.deepEqual(create.required, ['type'], 'type is the one required field');
    assert.equal(create.additionalProperties, false, 'unknown fields are refused');
    const query = doc.json.paths['/api/jobs'].get.parameters.map((p: { name: string }) => p.name);
    assert.deepEqual(
      query.sort(),
      ['before', 'limit', 'scope', 'since', 'status', 'type', 'wait'],
      'the list filters',
    );
    const listed = doc.json.paths['/api/jobs'].get.responses['200'].content['application/json'].schema;
    const page = listed.$ref ? doc.json.components.schemas[listed.$ref.split('/').pop()] : listed;
    assert.ok(page.properties.next, 'a page names its next');
  });
});

describe('CORS', () => {
  it('answers only allow-listed origins and never allows credentials', async () => {
    const tracker = await openTestTracker({ corsOrigins: ['https://app.example'] });
    const call = caller(tracker.app);
    const preflight = (origin: string) =>
      call('/api/jobs', {
        method: 'OPTIONS',
        headers: {
          Origin: origin,
          'Access-Control-Request-Method': 'POST',
          'Access-Control-Request-Headers': 'authorization,content-type',
        },
      });
    const allowed = await preflight('https://app.example');
    assert.equal(allowed.headers.get('access-control-allow-origin'), 'https://app.example');
    assert.match(allowed.headers.get('access-control-allow-headers') ?? '', /authorization/i);
    assert.equal(allowed.headers.get('access-control-allow-credentials'), null);
    const denied = await preflight('https://evil.example');
    assert.equal(denied.headers.get('access-control-allow-origin'), null);
    await tracker.close();
  });
});

describe('dev mode and host authentication', () => {
  it('treats every caller as the demo user when no secret is set', async () => {
    const tracker = await openTestTracker({ secret: undefined, devMode: true });
    const call = caller(tracker.app);
    const created = await call('/api/jobs', { body: { type: 'x' } });
    assert.equal(created.status, 201);
    assert.equal(tracker.auth.devMode, true);
    const worker = await call('/api/worker/claim', { body: { types: ['x'] } });
    assert.equal(worker.status, 401, 'a configured worker key still guards the worker API');
    await tracker.close();
  });

  it('uses the host’s authenticate() instead of JWTs', async () => {
    const tracker = await openTestTracker({
      authenticate: (request) => request.headers.get('x-user'),
    });
    const call = caller(tracker.app);
    const created = await call('/api/jobs', { body: { type: 'x' }, headers: { 'X-User': 'erin' } });
    assert.equal(created.status, 201);
    assert.equal((await call('/api/jobs', { headers: { 'X-User': 'frank' } })).json.jobs.length, 0);
    assert.equal((await call('/api/jobs', { headers: { 'X-User': 'erin' } })).json.jobs.length, 1);
    assert.equal((await call('/api/jobs')).status, 401);
    await tracker.close();
  });
});
