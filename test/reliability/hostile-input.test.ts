// Issue 13, point 5: hostile and unusual input on a real server. Deeply nested JSON is a 400, not a
// stack overflow; a long-lived token keeps its stream open until it expires; HEAD and wrong methods get
// a proper answer; a client that hangs up mid-body is not a server error, and a real server error logs
// one line with a request id; line separators never reach a stream raw.

import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { Agent, request as httpRequest } from 'node:http';
import { connect } from 'node:net';
import { after, before, describe, it, type TestContext } from 'node:test';
import { createJobClient, type Job } from '@jobtracker/sdk';
import type { RunningServer } from '@jobtracker/server';
import { signToken } from '@jobtracker/server';
import { delay, eventually, SseReader } from '@jobtracker/test-support/server';
import { SECRET, startReliabilityServer, WORKER_KEY } from './server.js';

const token = (sub: string, expiresInSeconds = 600) => signToken({ sub, expiresInSeconds }, SECRET);
const asUser = (sub: string) => ({ Authorization: `Bearer ${token(sub)}` });
const json = { 'Content-Type': 'application/json' };
const asWorker = { Authorization: `Bearer ${WORKER_KEY}`, ...json };

/** An array nested `depth` levels: `[[[…]]]`. */
const nestedArrays = (depth: number) => `${'['.repeat(depth)}${']'.repeat(depth)}`;
/** An object nested `depth` levels: `{"a":{"a":…1}}`. */
const nestedObjects = (depth: number) => `${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}`;

/** Every line the server logs through the console, by level, while a test runs. */
function captureLogs(t: TestContext) {
  const lines: { level: string; text: string }[] = [];
  for (const level of ['error', 'warn', 'info', 'log', 'debug'] as const) {
    t.mock.method(console, level, (...args: unknown[]) => {
      lines.push({
        level,
        text: args.map((arg) => (arg instanceof Error ? arg.stack : String(arg))).join(' '),
      });
    });
  }
  return lines;
}

async function send(url: string, init: RequestInit = {}) {
  const response = await fetch(url, { ...init, signal: AbortSignal.timeout(20_000) });
  const text = await response.text();
  let body: any = null;
  try {
    body = JSON.parse(text);
  } catch {
    body = text;
  }
  return { status: response.status, headers: response.headers, body, text };
}

describe('hostile and unusual input', () => {
  let server: RunningServer;
  let base: string;
  before(async () => {
    server = await startReliabilityServer({
      onError: undefined,
      logLevel: 'info',
      heartbeatMs: 1000,
      extend: (app) => app.get('/extra-page', (c) => c.text('a host page')),
    });
    base = server.url;
  });
  after(async () => {
    await server.close();
  });

  const createJob = async (type: string, body: Record<string, unknown> = {}) => {
    const created = await send(`${base}/api/jobs`, {
      method: 'POST',
      headers: { ...asUser('hostile'), ...json },
      body: JSON.stringify({ type, ...body }),
    });
    assert.equal(created.status, 201, `job created: ${created.text.slice(0, 200)}`);
    return created.body.job as Job;
  };
  const claim = async (type: string) => {
    const claimed = await send(`${base}/api/worker/claim`, {
      method: 'POST',
      headers: asWorker,
      body: JSON.stringify({ types: [type], leaseMs: 60_000 }),
    });
    assert.equal(claimed.status, 200, `job claimed: ${claimed.text.slice(0, 200)}`);
    return claimed.body as { job: Job; leaseToken: string };
  };

  describe('deeply nested JSON', () => {
    const assertTooDeep = (answer: Awaited<ReturnType<typeof send>>, what: string) => {
      assert.equal(answer.status, 400, `${what}: ${answer.text.slice(0, 300)}`);
      assert.deepEqual(Object.keys(answer.body), ['error'], `${what}: the usual error body`);
      assert.equal(answer.body.error.code, 'json_too_deep', `${what}: code`);
      assert.match(answer.body.error.message, /64/, `${what}: the message names the limit`);
    };

    it('is refused with 400 json_too_deep on POST /api/jobs, up to 100,000 levels, and logs nothing', async (t) => {
      const logs = captureLogs(t);
      const bodies: [string, string][] = [
        ['arrays 100 deep', nestedArrays(100)],
        ['arrays 2,200 deep', nestedArrays(2200)],
        ['objects 2,200 deep', nestedObjects(2200)],
        ['arrays 100,000 deep', nestedArrays(100_000)],
      ];
      for (const [what, input] of bodies) {
        const answer = await send(`${base}/api/jobs`, {
          method: 'POST',
          headers: { ...asUser('deep'), ...json },
          body: `{"type":"deep.job","input":${input}}`,
        });
        assertTooDeep(answer, what);
      }
      const unauthenticated = await send(`${base}/api/jobs`, {
        method: 'POST',
        headers: json,
        body: `{"type":"deep.job","input":${nestedArrays(100_000)}}`,
      });
      assert.ok(
        [400, 401].includes(unauthenticated.status),
        `no 500 without a token (${unauthenticated.status})`,
      );
      assert.deepEqual(logs, [], 'a client’s deep JSON is not a server error');
    });

    it('accepts JSON within the limit, and brackets inside strings do not count', async () => {
      const fine = await createJob('deep.ok', { input: JSON.parse(nestedArrays(60)) });
      assert.equal(fine.type, 'deep.ok', 'an input 60 levels deep is stored');
      const brackets = `"\\"${'['.repeat(10_000)}{"`;
      const job = await createJob('deep.strings', { input: { text: JSON.parse(brackets) } });
      assert.equal((job as unknown as { id: string }).id.length, 26, 'brackets in a string are just text');
      const chunked = await send(`${base}/api/jobs`, {
        method: 'POST',
        headers: { ...asUser('hostile'), ...json },
        body: new ReadableStream({
          start(controller) {
            controller.enqueue(new TextEncoder().encode('{"type":"deep.chunked",'));
            controller.enqueue(new TextEncoder().encode('"input":[[1]]}'));
            controller.close();
          },
        }),
        duplex: 'half',
      } as RequestInit);
      assert.equal(chunked.status, 201, `a chunked body (no Content-Length) is read once: ${chunked.text}`);
      assert.deepEqual(chunked.body.job.type, 'deep.chunked', 'the chunked job is the one sent');
    });

    it('is refused with 400 json_too_deep on the worker’s complete, and the lease still works after', async (t) => {
      const logs = captureLogs(t);
      const job = await createJob('deep.worker');
      const { leaseToken } = await claim('deep.worker');
      for (const depth of [2200, 100_000]) {
        const answer = await send(`${base}/api/worker/jobs/${job.id}/complete`, {
          method: 'POST',
          headers: asWorker,
          body: `{"leaseToken":${JSON.stringify(leaseToken)},"result":${nestedArrays(depth)}}`,
        });
        assertTooDeep(answer, `result ${depth} deep`);
      }
      const progress = await send(`${base}/api/worker/progress`, {
        method: 'POST',
        headers: asWorker,
        body: `{"updates":[{"id":"${job.id}","leaseToken":"${leaseToken}","progress":5,"x":${nestedArrays(5000)}}]}`,
      });
      assertTooDeep(progress, 'a progress batch');
      const done = await send(`${base}/api/worker/jobs/${job.id}/complete`, {
        method: 'POST',
        headers: asWorker,
        body: JSON.stringify({ leaseToken, result: { url: '/fine' } }),
      });
      assert.equal(done.status, 200, `a fine result completes the job: ${done.text.slice(0, 200)}`);
      assert.deepEqual(logs, [], 'a worker’s deep JSON is not a server error');
    });
  });

  it('serves a job whose result an in-process handler stored 4,000 levels deep, on every read path', async () => {
    const job = await createJob('deep.stored');
    const { leaseToken } = await claim('deep.stored');
    let result: unknown = 'bottom';
    for (let i = 0; i < 4000; i++) result = [result];
    await server.tracker.engine.complete(job.id, leaseToken, result as never);
    const headers = asUser('hostile');
    const one = await send(`${base}/api/jobs/${job.id}`, { headers });
    assert.equal(one.status, 200, `GET /api/jobs/:id: ${one.text.slice(0, 200)}`);
    assert.equal((await send(`${base}/api/jobs`, { headers })).status, 200, 'GET /api/jobs');
    assert.equal((await send(`${base}/api/jobs?since=0`, { headers })).status, 200, 'GET /api/jobs?since=0');
    const controller = new AbortController();
    try {
      const response = await fetch(`${base}/api/jobs/stream`, { headers, signal: controller.signal });
      const reader = new SseReader(response);
      await reader.until(() => reader.ready.length > 0, 5000, 'the snapshot');
      assert.ok(reader.events[0]?.data.includes('bottom'), 'the snapshot carries the deep result');
    } finally {
      controller.abort();
    }
  });

  describe('token lifetimes', () => {
    it('keeps the stream of a token valid for 40 days open, with no TimeoutOverflowWarning', async () => {
      const warnings: Error[] = [];
      const onWarning = (warning: Error) => warnings.push(warning);
      process.on('warning', onWarning);
      const controller = new AbortController();
      try {
        // 40 days, and up to the last minute of the year 9999.
        const lifetimes = [40 * 86_400, 253402300799 - Math.floor(Date.now() / 1000) - 60];
        await Promise.all(
          lifetimes.map(async (expiresInSeconds) => {
            const response = await fetch(`${base}/api/jobs/stream`, {
              headers: { Authorization: `Bearer ${token('long-lived', expiresInSeconds)}` },
              signal: controller.signal,
            });
            assert.equal(response.status, 200, `the stream opens (${expiresInSeconds} s token)`);
            const reader = new SseReader(response);
            await reader.until(() => reader.ready.length > 0, 5000, 'the stream to be live');
            // The overflowed timer fired after 1 ms; three heartbeats later the stream must still be open.
            await reader.until(
              () => reader.comments.filter((c) => c === 'heartbeat').length >= 3,
              10_000,
              'heartbeats',
            );
            assert.equal(reader.ended, false, `the stream of a ${expiresInSeconds} s token is still open`);
          }),
        );
        assert.deepEqual(
          warnings.map((warning) => warning.name),
          [],
          'no process warning (TimeoutOverflowWarning) was emitted',
        );
      } finally {
        controller.abort();
        process.off('warning', onWarning);
      }
    });

    it('refuses a token whose exp is infinite or beyond the year 9999 with 401 invalid_token', async () => {
      const b64 = (text: string) => Buffer.from(text).toString('base64url');
      const forge = (claims: string) => {
        const head = `${b64('{"alg":"HS256","typ":"JWT"}')}.${b64(claims)}`;
        return `${head}.${createHmac('sha256', SECRET).update(head).digest('base64url')}`;
      };
      for (const exp of ['1e400', '253402300800', '1e300']) {
        const forged = forge(`{"sub":"absurd","exp":${exp}}`);
        for (const path of ['/api/jobs', '/api/jobs/stream']) {
          const answer = await send(`${base}${path}`, { headers: { Authorization: `Bearer ${forged}` } });
          assert.equal(answer.status, 401, `exp ${exp} on ${path}: ${answer.text.slice(0, 200)}`);
          assert.equal(answer.body.error.code, 'invalid_token', `exp ${exp} on ${path}: code`);
          assert.match(answer.body.error.message, /exp/, `exp ${exp}: the message names the claim`);
        }
      }
    });
  });

  describe('methods', () => {
    it('answers HEAD /api/jobs/stream with the headers and holds no stream', async () => {
      const agent = new Agent({ keepAlive: true, maxSockets: 1 });
      const call = (method: string, path: string, headers: Record<string, string> = {}) =>
        new Promise<{ status: number; headers: Record<string, unknown>; body: string }>((resolve, reject) => {
          const req = httpRequest(`${base}${path}`, { method, headers, agent, timeout: 5000 }, (res) => {
            let body = '';
            res.setEncoding('utf8');
            res.on('data', (chunk) => {
              body += chunk;
            });
            res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
          });
          req.on('timeout', () => req.destroy(new Error(`${method} ${path} did not answer within 5 s`)));
          req.on('error', reject);
          req.end();
        });
      try {
        const head = await call('HEAD', '/api/jobs/stream', asUser('head'));
        assert.equal(head.status, 200, 'HEAD answers like GET');
        assert.match(String(head.headers['content-type']), /^text\/event-stream/, 'with the stream’s type');
        assert.equal(head.body, '', 'and no body');
        const health = await call('GET', '/api/health');
        assert.equal(health.status, 200, 'the same connection answers the next request');
        assert.equal(JSON.parse(health.body).streams, 0, 'HEAD took no stream slot');
        assert.equal(server.tracker.streams.connections.size, 0, 'the registry holds no stream');
        const refused = await call('HEAD', '/api/jobs/stream');
        assert.equal(refused.status, 401, 'HEAD without a token is refused like GET');
      } finally {
        agent.destroy();
      }
    });

    it('answers a known route with a wrong method 405 with Allow, and an unknown path 404', async () => {
      const cases: [method: string, path: string, allowed: string[]][] = [
        ['PUT', '/api/jobs', ['GET', 'HEAD', 'POST']],
        ['DELETE', '/api/jobs/01m8k0x60974smd8gnmwwmw588', ['GET', 'HEAD']],
        ['POST', '/api/jobs/stream', ['GET', 'HEAD']],
        ['GET', '/api/worker/claim', ['POST']],
        ['PATCH', '/api/worker/jobs/01m8k0x60974smd8gnmwwmw588/complete', ['POST']],
        ['POST', '/api/health', ['GET', 'HEAD']],
        ['POST', '/extra-page', ['GET', 'HEAD']],
      ];
      for (const [method, path, allowed] of cases) {
        const headers = path.startsWith('/api/worker/') ? asWorker : asUser('methods');
        const answer = await send(`${base}${path}`, { method, headers });
        assert.equal(answer.status, 405, `${method} ${path}: ${answer.text.slice(0, 200)}`);
        assert.deepEqual(
          (answer.headers.get('allow') ?? '').split(/,\s*/).sort(),
          allowed,
          `${method} ${path}: Allow`,
        );
        assert.equal(answer.body.error.code, 'method_not_allowed', `${method} ${path}: code`);
        assert.match(answer.body.error.message, new RegExp(allowed.join('|')), `${method} ${path}: message`);
      }
      for (const [method, path] of [
        ['GET', '/api/nope'],
        ['POST', '/api/jobs/01m8k0x60974smd8gnmwwmw588/nope'],
        ['GET', '/nowhere'],
      ] as const) {
        const answer = await send(`${base}${path}`, { method, headers: asUser('methods') });
        assert.equal(answer.status, 404, `${method} ${path} is unknown`);
        assert.equal(answer.body.error.code, 'not_found', `${method} ${path}: code`);
      }
    });
  });

  describe('errors and logs', () => {
    it('does not log a client that hangs up mid-body as a server error', async (t) => {
      const debugServer = await startReliabilityServer({ onError: undefined, logLevel: 'debug' });
      const logs = captureLogs(t);
      try {
        const job = await fetch(`${debugServer.url}/api/jobs`, {
          method: 'POST',
          headers: { ...asUser('abort'), ...json },
          body: JSON.stringify({ type: 'abort.job' }),
        }).then((response) => response.json() as Promise<{ job: Job }>);
        const heads = [
          `POST /api/jobs HTTP/1.1\r\nAuthorization: Bearer ${token('abort')}\r\nContent-Length: 2000\r\n`,
          `POST /api/worker/jobs/${job.job.id}/complete HTTP/1.1\r\nAuthorization: Bearer ${WORKER_KEY}\r\nTransfer-Encoding: chunked\r\n`,
        ];
        for (const head of heads) {
          const before = logs.length;
          const socket = connect(debugServer.port, '127.0.0.1');
          await new Promise((resolve) => socket.once('connect', resolve));
          socket.write(`${head}Host: 127.0.0.1\r\nContent-Type: application/json\r\n\r\n`);
          const half = `{"type":"abort.job","input":"${'x'.repeat(900)}`;
          socket.write(head.includes('chunked') ? `${(1000).toString(16)}\r\n${half}` : half);
          await delay(100);
          socket.destroy();
          await eventually(() => logs.length > before, 10_000, 'the server to notice the hang-up');
        }
        await delay(200);
        const notDebug = logs.filter((line) => line.level !== 'debug');
        assert.deepEqual(notDebug, [], 'nothing above debug level was logged');
        for (const line of logs) {
          assert.equal(line.text.includes('\n'), false, `a debug line is one line: ${line.text}`);
          assert.match(
            line.text,
            /abort|closed|hung up/i,
            `the debug line says the client left: ${line.text}`,
          );
        }
      } finally {
        await debugServer.close();
      }
    });

    it('logs a server error as one line with the request id that the client also gets, without a stack', async (t) => {
      const logs = captureLogs(t);
      const engine = server.tracker.engine;
      const original = engine.get;
      engine.get = async () => {
        throw new Error('database on fire\nsecond line of the message');
      };
      try {
        const answer = await send(`${base}/api/jobs/01m8k0x60974smd8gnmwwmw588`, { headers: asUser('boom') });
        assert.equal(answer.status, 500, 'a server error');
        assert.deepEqual(
          Object.keys(answer.body.error).sort(),
          ['code', 'message', 'requestId'],
          'error body',
        );
        assert.equal(answer.body.error.code, 'internal_error', 'code');
        assert.doesNotMatch(answer.text, /fire/, 'the internal message stays on the server');
        const requestId = answer.headers.get('x-request-id');
        assert.ok(requestId && requestId.length >= 8, `an X-Request-Id header (${requestId})`);
        assert.equal(answer.body.error.requestId, requestId, 'the body quotes the same request id');
        assert.equal(logs.length, 1, `exactly one line logged: ${JSON.stringify(logs)}`);
        const [line] = logs;
        assert.equal(line?.level, 'error', 'at error level');
        assert.ok(line?.text.includes(requestId), `the line names the request id: ${line?.text}`);
        assert.match(line?.text ?? '', /database on fire/, 'the line says what failed');
        assert.equal(line?.text.includes('\n'), false, `one line: ${line?.text}`);
        assert.doesNotMatch(line?.text ?? '', /\bat .+:\d+:\d+/, 'no stack');
      } finally {
        engine.get = original;
      }
    });
  });

  describe('line separators in stream data', () => {
    it('escapes U+2028, U+2029 and U+0085 in every stream frame; the SDK reads the exact text', async () => {
      const separators = /\u2028|\u2029|\u0085/;
      const title = 'one\u2028two\u2029three\u0085four';
      const message = 'step\u2028by\u2029step\u0085done';
      const controller = new AbortController();
      const rawStreams: Buffer[][] = [];
      const open = async (headers: Record<string, string> = {}) => {
        const response = await fetch(`${base}/api/jobs/stream`, {
          headers: { ...asUser('lines'), ...headers },
          signal: controller.signal,
        });
        assert.ok(response.body, 'a stream body');
        const [forReader, forBytes] = response.body.tee();
        const chunks: Buffer[] = [];
        rawStreams.push(chunks);
        void (async () => {
          try {
            for await (const chunk of forBytes) chunks.push(Buffer.from(chunk));
          } catch {
            // aborted at the end of the test
          }
        })();
        return new SseReader(new Response(forReader));
      };
      const client = createJobClient({
        baseUrl: `${base}/api`,
        transport: 'sse',
        storage: null,
        shareTabs: false,
        token: () => token('lines'),
      });
      const unsubscribe = client.$jobs.subscribe(() => {});
      try {
        const live = await open();
        await live.until(() => live.ready.length > 0, 5000, 'the first stream to be live');
        const cursorBefore = live.ready[0]?.cursor ?? '0';
        const created = await send(`${base}/api/jobs`, {
          method: 'POST',
          headers: { ...asUser('lines'), ...json },
          body: JSON.stringify({ type: 'lines.job', title }),
        });
        assert.equal(created.status, 201, 'job created');
        const job = created.body.job as Job;
        const { leaseToken } = await claim('lines.job');
        const progressed = await send(`${base}/api/worker/jobs/${job.id}/progress`, {
          method: 'POST',
          headers: asWorker,
          body: JSON.stringify({ leaseToken, progress: 50, message }),
        });
        assert.equal(progressed.status, 200, 'progress reported');
        const hasMessage = (reader: SseReader) =>
          reader.events.some((event) => event.data.includes('step') && event.data.includes('done'));
        await live.until(() => hasMessage(live), 5000, 'the live job event');
        const snapshot = await open();
        await snapshot.until(() => hasMessage(snapshot), 5000, 'the snapshot');
        const replay = await open({ 'Last-Event-ID': cursorBefore });
        await replay.until(() => hasMessage(replay), 5000, 'the replay');
        for (const [index, chunks] of rawStreams.entries()) {
          const text = await eventually(
            () => {
              const received = Buffer.concat(chunks).toString('utf8');
              return received.includes('done') ? received : null;
            },
            5000,
            `the bytes of stream ${index}`,
          );
          assert.doesNotMatch(text, separators, `stream ${index} holds no raw line separator`);
          assert.ok(text.includes('\\u2028') && text.includes('\\u0085'), `stream ${index} escapes them`);
        }
        await eventually(
          () => client.$jobs.get()[job.id]?.message === message,
          5000,
          'the SDK client to hold the exact message',
        );
        assert.equal(client.$jobs.get()[job.id]?.title, title, 'the SDK client holds the exact title');
      } finally {
        unsubscribe();
        controller.abort();
      }
    });
  });
});
