import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { delay, SECRET, tokenFor } from '@jobtracker/test-support/server';
import { signToken } from '../auth/jwt.js';
import { etagOf, request, type Served, servedTwice, statusOf, undated } from '../testing/served-twice.js';
import { startServer } from './server.js';
import type { JobTracker } from './tracker.js';

/** The ETag the app gives `path` now (asked in process: the ETag does not depend on the transport). */
async function currentEtag(served: Served, path: string, headers: Record<string, string>) {
  const first = await served.tracker.app.request(path, { headers });
  assert.equal(first.status, 200);
  return first.headers.get('etag') ?? '';
}

const bearer = (token: string) => ({ Authorization: `Bearer ${token}` });

async function createJob(tracker: JobTracker, token: string, scope: string) {
  const created = await tracker.app.request('/api/jobs', {
    method: 'POST',
    headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' },
    body: JSON.stringify({ type: 'poll.test', scope }),
  });
  assert.equal(created.status, 201);
}

describe('an unchanged conditional poll answered before Hono', () => {
  let served: Served;
  const alice = tokenFor('alice');
  before(async () => {
    served = await servedTwice();
    await createJob(served.tracker, alice, 'first');
  });
  after(() => served.close());

  it('answers 304 with the route’s own answer, byte for byte but the date', async () => {
    for (const path of [
      '/api/jobs?since=0',
      '/api/jobs',
      '/api/jobs?status=active&limit=5',
      '/api/jobs?type=poll.test&since=7',
    ]) {
      const etag = await currentEtag(served, path, bearer(alice));
      const { fast, plain, took } = await served.both(
        request(path, { Authorization: `Bearer ${alice}`, 'If-None-Match': etag }),
      );
      assert.equal(statusOf(plain), 304, `${path}: the route answers 304`);
      assert.ok(took, `${path}: answered before Hono`);
      assert.equal(undated(fast), undated(plain), path);
    }
  });

  it('answers 200 with the new list once the owner’s cursor moved', async () => {
    const path = '/api/jobs?since=0';
    const etag = await currentEtag(served, path, bearer(alice));
    await createJob(served.tracker, alice, 'second');
    const { fast, plain, took } = await served.both(
      request(path, { Authorization: `Bearer ${alice}`, 'If-None-Match': etag }),
    );
    assert.equal(took, false);
    assert.equal(statusOf(fast), 200);
    assert.notEqual(etagOf(fast), etag);
    assert.equal(undated(fast), undated(plain));
    assert.match(fast, /"scope":"second"/);
  });

  it('keeps owners apart: another user sending this ETag gets their own list', async () => {
    const path = '/api/jobs?since=0';
    const etag = await currentEtag(served, path, bearer(alice));
    const bob = tokenFor('bob');
    await currentEtag(served, path, bearer(bob)); // Bob's token is verified (and remembered) first
    const { fast, plain, took } = await served.both(
      request(path, { Authorization: `Bearer ${bob}`, 'If-None-Match': etag }),
    );
    assert.equal(took, false);
    assert.equal(statusOf(fast), 200);
    assert.equal(undated(fast), undated(plain));
    assert.match(fast, /"jobs":\[\]/);
  });

  it('leaves every refusal to the app: the same 401, 400 and 422 answers', async () => {
    const path = '/api/jobs?since=0';
    const etag = await currentEtag(served, path, bearer(alice));
    const cases: [string, Record<string, string>, number][] = [
      [path, { 'If-None-Match': etag }, 401],
      [path, { Authorization: 'Bearer not-a-token', 'If-None-Match': etag }, 401],
      [path, { Authorization: `Bearer ${tokenFor('alice')}x`, 'If-None-Match': etag }, 401],
      [path, { Authorization: `Basic ${alice}`, 'If-None-Match': etag }, 401],
      [`${path}&status=active`, { Authorization: `Bearer ${alice}`, 'If-None-Match': etag }, 400],
      [`${path}&since=0`, { Authorization: `Bearer ${alice}`, 'If-None-Match': etag }, 400],
      ['/api/jobs?since=soon', { Authorization: `Bearer ${alice}`, 'If-None-Match': etag }, 422],
      // A held poll: the route holds it (up to `wait`), then answers 304 as nothing changed.
      [`${path}&wait=200`, { Authorization: `Bearer ${alice}`, 'If-None-Match': etag }, 304],
      [`${path}&wait=-1`, { Authorization: `Bearer ${alice}`, 'If-None-Match': etag }, 422],
    ];
    for (const [target, headers, status] of cases) {
      const { fast, plain, took } = await served.both(request(target, headers));
      assert.equal(took, false, `${target} ${JSON.stringify(headers)}`);
      assert.equal(statusOf(plain), status, JSON.stringify(plain));
      assert.equal(undated(fast), undated(plain));
    }
  });

  it('refuses a token repeated in two Authorization headers as the app does', async () => {
    const path = '/api/jobs?since=0';
    const etag = await currentEtag(served, path, bearer(alice));
    const text = request(path, { Authorization: `Bearer ${alice}`, 'If-None-Match': etag }).replace(
      'Connection: close',
      `Authorization: Bearer ${alice}\r\nConnection: close`,
    );
    const { fast, plain, took } = await served.both(text);
    assert.equal(took, false);
    assert.equal(statusOf(plain), 401);
    assert.equal(undated(fast), undated(plain));
  });

  it('leaves to the app what it does not answer: no If-None-Match, HEAD, another path or host form', async () => {
    const path = '/api/jobs?since=0';
    const etag = await currentEtag(served, path, bearer(alice));
    const auth = { Authorization: `Bearer ${alice}` };
    const texts = [
      request(path, auth),
      request(path, { ...auth, 'If-None-Match': etag }, 'HEAD'),
      request('/api/jobs/?since=0', { ...auth, 'If-None-Match': etag }),
      request('/api/./jobs?since=0', { ...auth, 'If-None-Match': etag }),
      request('/api/jobs?since=0', { ...auth, 'If-None-Match': `${etag}, "other"` }),
      request(path, { ...auth, 'If-None-Match': etag }).replace('Host: localhost', 'Host: LOCALHOST'),
    ];
    for (const text of texts) {
      const { fast, plain, took } = await served.both(text);
      assert.equal(took, false, text);
      assert.equal(undated(fast), undated(plain), text);
    }
  });

  it('answers other spellings of the same request as the app does', async () => {
    const path = '/api/jobs?since=0';
    const etag = await currentEtag(served, path, bearer(alice));
    const texts = [
      request(path, { authorization: `bearer ${alice}`, 'if-none-match': etag }),
      request(path, { AUTHORIZATION: `Bearer   ${alice}  `, 'If-None-Match': `  ${etag}  ` }),
      request(path, { Authorization: `Bearer ${alice}`, 'If-None-Match': etag, Origin: 'http://a.example' }),
      request('/api/jobs?since=0&', { ...bearer(alice), 'If-None-Match': etag }),
      request('/api/jobs?since=%30', { ...bearer(alice), 'If-None-Match': etag }),
    ];
    for (const text of texts) {
      const { fast, plain } = await served.both(text);
      assert.equal(undated(fast), undated(plain), text);
    }
  });

  it('answers a token as long as the app accepts it, and leaves an expired one to the app', async () => {
    const path = '/api/jobs?since=0';
    const now = Math.floor(Date.now() / 1000);
    const etag = await currentEtag(served, path, bearer(alice));
    // The app allows 5 s of clock skew past `exp`.
    for (const expiresInSeconds of [60, -3]) {
      const token = signToken({ sub: 'alice', expiresInSeconds }, SECRET);
      const { fast, plain, took } = await served.both(
        request(path, { ...bearer(token), 'If-None-Match': etag }),
      );
      assert.ok(took, `answered before Hono (exp ${expiresInSeconds} s from now)`);
      assert.equal(statusOf(plain), 304);
      assert.equal(undated(fast), undated(plain));
    }
    const expired = signToken({ sub: 'alice', expiresInSeconds: -60 }, SECRET);
    const { fast, plain, took } = await served.both(
      request(path, { ...bearer(expired), 'If-None-Match': etag }),
    );
    assert.equal(took, false);
    assert.equal(statusOf(plain), 401);
    assert.match(plain, /token_expired/);
    assert.equal(undated(fast), undated(plain));
    assert.ok(Math.floor(Date.now() / 1000) - now < 3, 'the test ran within the skew it relies on');
  });

  it('stops answering a remembered token once its skew ran out', async () => {
    const path = '/api/jobs?since=0';
    const etag = await currentEtag(served, path, bearer(alice));
    const token = signToken({ sub: 'alice', expiresInSeconds: -3 }, SECRET);
    const text = request(path, { ...bearer(token), 'If-None-Match': etag });
    assert.ok((await served.both(text)).took, 'answered within the skew');
    await delay(2100);
    const { fast, plain, took } = await served.both(text);
    assert.equal(took, false);
    assert.equal(statusOf(plain), 401);
    assert.equal(undated(fast), undated(plain));
  });
});

describe('the conditional poll’s CORS headers', () => {
  for (const origins of [['*'], ['http://a.example', 'http://b.example']]) {
    it(`match the app’s with corsOrigins ${JSON.stringify(origins)}`, async () => {
      const served = await servedTwice({ corsOrigins: origins });
      try {
        const alice = tokenFor('alice');
        await createJob(served.tracker, alice, 'cors');
        const path = '/api/jobs?since=0';
        const etag = await currentEtag(served, path, bearer(alice));
        for (const origin of [undefined, 'http://a.example', 'http://c.example']) {
          const headers: Record<string, string> = { Authorization: `Bearer ${alice}`, 'If-None-Match': etag };
          if (origin) headers.Origin = origin;
          const { fast, plain, took } = await served.both(request(path, headers));
          assert.equal(statusOf(plain), 304);
          assert.ok(took, `origin ${origin}`);
          assert.equal(undated(fast), undated(plain), `origin ${origin}`);
        }
      } finally {
        await served.close();
      }
    });
  }
});

describe('the conditional poll without tokens', () => {
  it('answers dev mode’s single owner as the app does', async () => {
    const served = await servedTwice({ secret: undefined, workerKey: undefined, devMode: true });
    try {
      const path = '/api/jobs?since=0';
      const etag = await currentEtag(served, path, {});
      const { fast, plain, took } = await served.both(request(path, { 'If-None-Match': etag }));
      assert.equal(statusOf(plain), 304);
      assert.ok(took, 'answered before Hono');
      assert.equal(undated(fast), undated(plain));
    } finally {
      await served.close();
    }
  });

  it('leaves a host’s own authenticate() to the app', async () => {
    const served = await servedTwice({
      secret: undefined,
      authenticate: (request) => request.headers.get('x-user'),
    });
    try {
      const path = '/api/jobs?since=0';
      const etag = await currentEtag(served, path, { 'X-User': 'carol' });
      const { fast, plain, took } = await served.both(
        request(path, { 'X-User': 'carol', 'If-None-Match': etag }),
      );
      assert.equal(statusOf(plain), 304);
      assert.equal(took, false);
      assert.equal(undated(fast), undated(plain));
    } finally {
      await served.close();
    }
  });
});

describe('startServer', () => {
  it('answers an unchanged poll before Hono', async () => {
    const server = await startServer({ port: 0, db: ':memory:', secret: SECRET, onError: () => {} });
    try {
      const alice = tokenFor('alice');
      const headers = { Authorization: `Bearer ${alice}` };
      const first = await fetch(`${server.url}/api/jobs?since=0`, { headers });
      assert.equal(first.status, 200);
      const etag = first.headers.get('etag') ?? '';
      let routed = 0;
      const { user } = server.tracker.auth;
      server.tracker.auth.user = (request) => {
        routed++;
        return user(request);
      };
      const again = await fetch(`${server.url}/api/jobs?since=0`, {
        headers: { ...headers, 'If-None-Match': etag },
      });
      assert.equal(again.status, 304);
      assert.equal(again.headers.get('etag'), etag);
      assert.equal(routed, 0, 'the route did not run');
    } finally {
      await server.close();
    }
  });
});
