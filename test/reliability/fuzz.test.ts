import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { JobTracker } from '@jobtracker/server';
import { openTestTracker, SseReader, tokenFor, WORKER_KEY } from '@jobtracker/test-support/server';
import fc from 'fast-check';

// Promise 11: no input makes the server answer 5xx; every refusal is a JSON error without a stack;
// CR and LF in job text never split an SSE event.
const FULL = process.env.JOBTRACKER_RELIABILITY_FULL === '1';
const RUNS = FULL ? 20_000 : 2_000;

const JOB_ID = '01m8k0x60974smd8gnmwwmw588';

/** Percent-encodes every byte, and passes raw escapes through: `%ED%A0%80` (a lone surrogate) and `%` stay broken. */
const percentEncode = (text: string) =>
  text.startsWith('%')
    ? text
    : [...Buffer.from(text, 'utf8')].map((byte) => `%${byte.toString(16).padStart(2, '0')}`).join('');
/** Every path the app answers, read from its own route table, with a well-formed job id for `:id`. */
const answeredPaths = (app: JobTracker['app']) => [
  ...new Set(
    app.routes
      .filter((route) => route.method !== 'ALL' && !route.path.endsWith('*'))
      .map((route) => route.path.replace(/:id\b/g, JOB_ID)),
  ),
];

/** Text a hostile client might send: control characters, unpaired surrogates, huge numbers, JSON-ish noise. */
const nasty = fc.oneof(
  fc.string({ unit: 'grapheme', maxLength: 40 }),
  fc.string({ unit: 'binary', maxLength: 40 }),
  fc.constantFrom(
    '\r\n',
    '\u0000',
    '\ud800',
    '__proto__',
    'constructor',
    '1e400',
    '-0',
    'NaN',
    '[]',
    '{}',
    'null',
  ),
);
const jsonValue = fc.jsonValue({ maxDepth: 3 });
const body = fc.oneof(
  jsonValue.map((value) => JSON.stringify(value)),
  fc
    .record(
      {
        type: fc.oneof(nasty, fc.constantFrom('gen', 'a.b-c_d')),
        scope: fc.oneof(nasty, fc.constant(null)),
        title: fc.oneof(nasty, fc.constant(null)),
        input: jsonValue,
        types: fc.array(nasty, { maxLength: 3 }),
        leaseToken: nasty,
        progress: fc.oneof(fc.double(), fc.integer(), fc.constant(null)),
        message: nasty,
        updates: fc.array(fc.record({ id: nasty, leaseToken: nasty, progress: fc.double() }), {
          maxLength: 3,
        }),
        waitMs: fc.oneof(fc.integer(), fc.double()),
        leaseMs: fc.oneof(fc.integer(), fc.double()),
      },
      { requiredKeys: [] },
    )
    .map((value) => JSON.stringify(value)),
  nasty,
);
const requestArbitrary = (paths: string[]) =>
  fc.record({
    method: fc.constantFrom('GET', 'POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS'),
    path: fc.oneof(
      { arbitrary: fc.constantFrom(...paths), weight: 4 },
      {
        arbitrary: fc
          .tuple(fc.constantFrom(...paths), nasty)
          .map(([path, tail]) => `${path}/${percentEncode(tail)}`),
        weight: 1,
      },
    ),
    query: fc.array(fc.tuple(fc.constantFrom('since', 'limit', 'status', 'type', 'scope', 'bogus'), nasty), {
      maxLength: 4,
    }),
    auth: fc.oneof(
      { arbitrary: fc.constantFrom('user', 'worker'), weight: 4 },
      { arbitrary: fc.constantFrom('none', 'garbage'), weight: 1 },
    ),
    contentType: fc.constantFrom('application/json', 'text/plain', 'application/json; charset=utf-8', ''),
    ifNoneMatch: fc.option(nasty),
    lastEventId: fc.option(nasty),
    body: fc.option(body),
  });

describe('input fuzzing of every endpoint', () => {
  let tracker: JobTracker;
  let paths: string[];
  before(async () => {
    tracker = await openTestTracker({ heartbeatMs: 60_000 });
    paths = answeredPaths(tracker.app);
  });
  after(() => tracker.close());

  it(`answers ${RUNS} generated requests without a 5xx, each refusal a JSON error without a stack`, async (t) => {
    const statuses = new Map<number, number>();
    await fc.assert(
      fc.asyncProperty(requestArbitrary(paths), async (r) => {
        const query = r.query.map(([key, value]) => `${key}=${percentEncode(value)}`).join('&');
        const headers: Record<string, string> = {};
        if (r.auth === 'user') headers.Authorization = `Bearer ${tokenFor('fuzz')}`;
        if (r.auth === 'worker') headers.Authorization = `Bearer ${WORKER_KEY}`;
        if (r.auth === 'garbage') headers.Authorization = 'Bearer not.a.token';
        if (r.contentType) headers['Content-Type'] = r.contentType;
        if (r.ifNoneMatch !== null) headers['If-None-Match'] = r.ifNoneMatch.replace(/[^\t\x20-\x7e]/g, '');
        if (r.lastEventId !== null) headers['Last-Event-ID'] = r.lastEventId.replace(/[^\t\x20-\x7e]/g, '');
        const controller = new AbortController();
        const response = await tracker.app.request(`${r.path}${query ? `?${query}` : ''}`, {
          method: r.method,
          headers,
          signal: controller.signal,
          ...(r.body !== null && r.method !== 'GET' && r.method !== 'OPTIONS' ? { body: r.body } : {}),
        });
        statuses.set(response.status, (statuses.get(response.status) ?? 0) + 1);
        const isStream = response.headers.get('content-type')?.startsWith('text/event-stream');
        const text = isStream ? '' : await response.text();
        controller.abort();
        if (isStream) await response.body?.cancel().catch(() => {});
        assert.ok(
          response.status < 500,
          `${r.method} ${r.path} answered ${response.status}: ${text.slice(0, 200)}`,
        );
        if (response.status >= 400) {
          const parsed = JSON.parse(text) as { error?: { code?: unknown; message?: unknown } };
          assert.equal(typeof parsed.error?.code, 'string', `a JSON error: ${text.slice(0, 200)}`);
          assert.doesNotMatch(text, /\bat .+\.(ts|js):\d+/, 'no stack trace');
        }
      }),
      { numRuns: RUNS },
    );
    const summary = [...statuses.entries()]
      .sort(([a], [b]) => a - b)
      .map(([status, count]) => `${status}×${count}`)
      .join(', ');
    t.diagnostic(`${RUNS} requests: ${summary}; 5xx: 0`);
    assert.equal([...statuses.keys()].filter((status) => status >= 500).length, 0);
  });

  it('answers an oversized body on every POST route with 413', async () => {
    const big = JSON.stringify({ type: 'x', title: 'y'.repeat(300_000) });
    for (const path of paths.filter(
      (p) => !p.endsWith('stream') && p !== '/api/health' && !p.endsWith('.json'),
    )) {
      const token = path.startsWith('/api/worker') ? WORKER_KEY : tokenFor('big');
      const response = await tracker.app.request(path, {
        method: 'POST',
        headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' },
        body: big,
      });
      if (path === '/api/jobs' || path.startsWith('/api/worker')) {
        assert.equal(response.status, 413, path);
        assert.equal(
          ((await response.json()) as { error: { code: string } }).error.code,
          'payload_too_large',
        );
      } else {
        // cancel and retry read no body: they answer for the job (404 here) and ignore what was sent.
        assert.ok(response.status < 500, `${path}: ${response.status}`);
      }
    }
  });

  it('keeps CR and LF in job text inside their event, however they are combined', async (t) => {
    const owner = tokenFor('crlf');
    const texts = fc
      .sample(
        fc.array(fc.constantFrom('\r', '\n', '\r\n', 'data: x', 'event: reset', 'id: 9', ':', ' ', 'ok'), {
          minLength: 1,
          maxLength: 8,
        }),
        { numRuns: 40, seed: 7 },
      )
      .map((parts) => parts.join(''));
    const controller = new AbortController();
    const stream = await tracker.app.request('/api/jobs/stream', {
      headers: { Authorization: `Bearer ${owner}` },
      signal: controller.signal,
    });
    const reader = new SseReader(stream);
    await reader.until(() => reader.ready.length === 1);
    const call = (path: string, payload: unknown, token: string) =>
      tracker.app.request(path, {
        method: 'POST',
        headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' },
        body: JSON.stringify(payload),
      });
    for (const [i, text] of texts.entries()) {
      const created = await call('/api/jobs', { type: 'crlf', scope: `s${i}`, title: text }, owner);
      assert.equal(created.status, 201);
    }
    const claimed = (await (await call('/api/worker/claim', { types: ['crlf'] }, WORKER_KEY)).json()) as {
      job: { id: string };
      leaseToken: string;
    };
    for (const text of texts) {
      const answer = await call(
        `/api/worker/jobs/${claimed.job.id}/progress`,
        { leaseToken: claimed.leaseToken, message: text },
        WORKER_KEY,
      );
      assert.equal(answer.status, 200);
    }
    // The snapshot (empty: the owner had no job yet), then one event per create, the claim, and one per progress.
    const expected = texts.length * 2 + 1;
    await reader.until(() => reader.events.length >= expected + 1, 10_000);
    controller.abort();
    const [snapshot, ...changes] = reader.events;
    assert.equal(snapshot?.event, 'snapshot');
    assert.deepEqual(
      changes.map((event) => event.event),
      [...Array.from({ length: texts.length + 1 }, () => 'job'), ...texts.map(() => 'progress')],
      'no event name came out of a job’s text: the creates and the claim whole, the reports as deltas',
    );
    assert.equal(changes.length, expected, 'one event per change, none split off');
    const jobs = changes.map((event) => JSON.parse(event.data) as { title: string; message: string | null });
    assert.deepEqual(
      jobs.slice(0, texts.length).map((job) => job.title),
      texts,
    );
    assert.deepEqual(
      jobs.slice(texts.length + 1).map((job) => job.message),
      texts,
    );
    t.diagnostic(
      `${texts.length} titles and ${texts.length} messages mixing CR, LF and SSE field names: each one event, intact`,
    );
  });
});
