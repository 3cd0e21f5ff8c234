import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { delay, tokenFor, WORKER_KEY } from '@jobtracker/test-support/server';
import { exchange, request, type Served, servedTwice, statusOf, undated } from '../testing/served-twice.js';
import type { ErrorContext } from './log.js';

const worker = { Authorization: `Bearer ${WORKER_KEY}`, 'Content-Type': 'application/json' };
const post = (path: string, body: string, headers: Record<string, string> = worker) =>
  request(path, headers, 'POST', body);

/** An answer's head (without Date and Content-Length) and its JSON body. */
function split(answer: string) {
  const end = answer.indexOf('\r\n\r\n');
  const head = undated(answer.slice(0, end)).replace(/\r\ncontent-length: \d+/i, '');
  const body = answer.slice(end + 4);
  const length = Number(/\r\ncontent-length: (\d+)/i.exec(answer)?.[1]);
  assert.equal(Buffer.byteLength(body, 'latin1'), length, 'Content-Length counts the body');
  return { head, json: JSON.parse(body) };
}

/** A job of `owner`'s, claimed: its id and lease token. */
async function claimedJob(served: Served, owner: string, type: string) {
  const created = await served.tracker.app.request('/api/jobs', {
    method: 'POST',
    headers: { Authorization: `Bearer ${tokenFor(owner)}`, 'Content-Type': 'application/json' },
    body: JSON.stringify({ type }),
  });
  assert.equal(created.status, 201);
  const claim = await served.tracker.app.request('/api/worker/claim', {
    method: 'POST',
    headers: worker,
    body: JSON.stringify({ types: [type], leaseMs: 600_000 }),
  });
  const { job, leaseToken } = (await claim.json()) as { job: { id: string }; leaseToken: string };
  return { id: job.id, leaseToken };
}

/** The same progress report to both: answers that differ only in the version and time they wrote. */
async function sameAccepted(served: Served, text: string) {
  const { fast, plain, took } = await served.both(text);
  assert.ok(took, 'answered before Hono');
  assert.equal(statusOf(plain), 200, plain);
  const ours = split(fast);
  const theirs = split(plain);
  assert.equal(ours.head, theirs.head);
  return { ours: ours.json, theirs: theirs.json };
}

const unstamped = (job: Record<string, unknown>) => ({ ...job, updatedAt: '' });

describe('progress reports answered before Hono', () => {
  let served: Served;
  let job: { id: string; leaseToken: string };
  const reported: ErrorContext[] = [];
  before(async () => {
    served = await servedTwice({ onError: (_error, context) => context && reported.push(context) });
    job = await claimedJob(served, 'alice', 'report.test');
  });
  after(() => served.close());

  it('applies a report and answers the job as the route does', async () => {
    const path = `/api/worker/jobs/${job.id}/progress`;
    const body = JSON.stringify({
      leaseToken: job.leaseToken,
      progress: 42,
      message: 'Row 42',
      leaseMs: 60_000,
    });
    const { ours, theirs } = await sameAccepted(served, post(path, body));
    assert.equal(ours.job.progress, 42);
    assert.deepEqual(unstamped(ours.job), unstamped(theirs.job));
  });

  it('applies a batch and answers its results as the route does', async () => {
    const other = await claimedJob(served, 'bob', 'report.batch');
    const body = JSON.stringify({
      updates: [
        { id: job.id, leaseToken: job.leaseToken, progress: 60 },
        { id: other.id, leaseToken: 'stale', progress: 2 },
        { id: 'not-a-job', leaseToken: 'x', message: null },
      ],
    });
    const { ours, theirs } = await sameAccepted(served, post('/api/worker/progress', body));
    assert.deepEqual(ours, theirs, 'the same report twice: the second changes nothing');
    assert.equal(typeof ours.results[0].version, 'number');
    assert.equal(ours.results[1].error.code, 'lease_lost');
  });

  it('refuses what the route refuses, with the same answer byte for byte', async () => {
    const path = `/api/worker/jobs/${job.id}/progress`;
    const unknown = `/api/worker/jobs/${'0'.repeat(26)}/progress`;
    const lease = job.leaseToken;
    const cases: [string, string, number][] = [
      [path, JSON.stringify({ leaseToken: 'stale', progress: 1 }), 409],
      [path, JSON.stringify({ leaseToken: lease, progress: 101 }), 422],
      [path, JSON.stringify({ leaseToken: lease, leaseMs: 10 }), 422],
      [path, JSON.stringify({ leaseToken: lease, extra: true }), 422],
      [path, JSON.stringify([lease]), 422],
      [path, '{"leaseToken":', 400],
      [path, '', 400],
      [path, `${'['.repeat(70)}${']'.repeat(70)}`, 400],
      [unknown, JSON.stringify({ leaseToken: lease, progress: 1 }), 404],
      ['/api/worker/progress', JSON.stringify({ updates: [] }), 422],
      ['/api/worker/progress', JSON.stringify({ updates: [{ leaseToken: lease }] }), 422],
    ];
    for (const [target, body, status] of cases) {
      const { fast, plain, took } = await served.both(post(target, body));
      assert.ok(took, `${target} ${body}: answered before Hono`);
      assert.equal(statusOf(plain), status, plain);
      assert.equal(undated(fast), undated(plain), `${target} ${body}`);
    }
  });

  it('leaves to the app what it does not answer, which answers it as always', async () => {
    const path = `/api/worker/jobs/${job.id}/progress`;
    const body = JSON.stringify({ leaseToken: 'stale', progress: 1 });
    const texts = [
      post(path, body, { ...worker, Authorization: 'Bearer wrong-key' }),
      post(path, body, { Authorization: worker.Authorization }),
      post(path, body, { ...worker, 'Content-Type': 'text/plain' }),
      post(`${path}?x=1`, body),
      post(path.replace('/api/', '/api//'), body),
      post(
        path
          .toUpperCase()
          .replace('/API/WORKER/JOBS/', '/api/worker/jobs/')
          .replace('/PROGRESS', '/progress'),
        body,
      ),
      post(path, body).replace(
        'Connection: close',
        `Authorization: ${worker.Authorization}\r\nConnection: close`,
      ),
      post(path, 'x'.repeat(300 * 1024)),
      request(path, { ...worker, 'Transfer-Encoding': 'chunked' }, 'POST', undefined).replace(
        /\r\n\r\n$/,
        `\r\n\r\n${Buffer.byteLength(body).toString(16)}\r\n${body}\r\n0\r\n\r\n`,
      ),
      request(path, worker, 'GET'),
      post(`/api/worker/jobs/${job.id}/complete`, JSON.stringify({ leaseToken: 'stale' })),
    ];
    for (const text of texts) {
      const { fast, plain, took } = await served.both(text);
      assert.equal(took, false, text.slice(0, 200));
      assert.equal(undated(fast), undated(plain), text.slice(0, 200));
    }
  });

  it('answers an unexpected error as the app does: a 500 with a request id, reported', async () => {
    const { engine } = served.tracker;
    const progress = engine.progress;
    engine.progress = () => Promise.reject(new Error('the disk is on fire'));
    try {
      const path = `/api/worker/jobs/${job.id}/progress`;
      reported.length = 0;
      const { fast, plain, took } = await served.both(
        post(path, JSON.stringify({ leaseToken: job.leaseToken })),
      );
      assert.ok(took, 'answered before Hono');
      assert.equal(statusOf(fast), 500);
      const ids = [fast, plain].map((answer) => /"requestId":"(\w+)"/.exec(answer)?.[1]);
      const withoutIds = (answer: string, id = '') => undated(answer).replaceAll(id, '<id>');
      assert.equal(withoutIds(fast, ids[0]), withoutIds(plain, ids[1]));
      assert.deepEqual(reported, [
        { requestId: ids[0], method: 'POST', path },
        { requestId: ids[1], method: 'POST', path },
      ]);
    } finally {
      engine.progress = progress;
    }
  });

  it('answers a database out of reach as the app does: 503 with Retry-After', async () => {
    const { engine } = served.tracker;
    const { progress } = engine;
    const { isUnavailable } = engine.store;
    engine.progress = () => Promise.reject(new Error('connection refused'));
    engine.store.isUnavailable = () => true;
    try {
      const path = `/api/worker/jobs/${job.id}/progress`;
      const { fast, plain, took } = await served.both(
        post(path, JSON.stringify({ leaseToken: job.leaseToken })),
      );
      assert.ok(took, 'answered before Hono');
      assert.equal(statusOf(fast), 503);
      const ids = [fast, plain].map((answer) => /"requestId":"(\w+)"/.exec(answer)?.[1] ?? '');
      assert.equal(
        undated(fast).replaceAll(ids[0] as string, '<id>'),
        undated(plain).replaceAll(ids[1] as string, '<id>'),
      );
    } finally {
      engine.progress = progress;
      engine.store.isUnavailable = isUnavailable;
    }
  });

  it('survives a worker that hangs up before its body arrived', async () => {
    const path = `/api/worker/jobs/${job.id}/progress`;
    const port = served.fastPort;
    const socket = connect(port, '127.0.0.1');
    await new Promise((resolve) => socket.once('connect', resolve));
    socket.write(post(path, JSON.stringify({ leaseToken: job.leaseToken })).replace(/\{.*$/, '{"lease'));
    await delay(50);
    socket.destroy();
    await delay(50);
    const again = await exchange(
      port,
      post(path, JSON.stringify({ leaseToken: job.leaseToken, progress: 99 })),
    );
    assert.equal(statusOf(again), 200, again);
  });
});

describe('progress reports when onError throws', () => {
  it('end that connection and go on serving', async () => {
    const served = await servedTwice({
      onError: () => {
        throw new Error('the reporter is broken too');
      },
    });
    try {
      const job = await claimedJob(served, 'alice', 'broken.reporter');
      const path = `/api/worker/jobs/${job.id}/progress`;
      const { engine } = served.tracker;
      const { progress } = engine;
      engine.progress = () => Promise.reject(new Error('the disk is on fire'));
      const broken = await exchange(
        served.fastPort,
        post(path, JSON.stringify({ leaseToken: job.leaseToken })),
      );
      engine.progress = progress;
      assert.equal(broken, '', 'no answer');
      const next = await exchange(
        served.fastPort,
        post(path, JSON.stringify({ leaseToken: job.leaseToken })),
      );
      assert.equal(statusOf(next), 200, next);
    } finally {
      await served.close();
    }
  });
});

describe('progress reports with CORS', () => {
  it('carry the same CORS headers as the route’s answers', async () => {
    const served = await servedTwice({ corsOrigins: ['http://a.example'] });
    try {
      const job = await claimedJob(served, 'alice', 'cors.report');
      const path = `/api/worker/jobs/${job.id}/progress`;
      for (const origin of [undefined, 'http://a.example', 'http://b.example']) {
        const headers: Record<string, string> = origin ? { ...worker, Origin: origin } : worker;
        await sameAccepted(served, post(path, JSON.stringify({ leaseToken: job.leaseToken }), headers));
        const stale = await served.both(post(path, JSON.stringify({ leaseToken: 'stale' }), headers));
        assert.ok(stale.took, 'answered before Hono');
        assert.equal(undated(stale.fast), undated(stale.plain), `origin ${origin}`);
      }
    } finally {
      await served.close();
    }
  });
});

describe('progress reports in dev mode', () => {
  it('are answered without a key, as the open worker API does', async () => {
    const served = await servedTwice({ secret: undefined, workerKey: undefined, devMode: true });
    try {
      const path = `/api/worker/jobs/${'0'.repeat(26)}/progress`;
      const text = post(path, JSON.stringify({ leaseToken: 'x' }), { 'Content-Type': 'application/json' });
      const { fast, plain, took } = await served.both(text);
      assert.ok(took, 'answered before Hono');
      assert.equal(statusOf(plain), 404);
      assert.equal(undated(fast), undated(plain));
    } finally {
      await served.close();
    }
  });
});
