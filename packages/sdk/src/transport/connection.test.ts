import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { eventually, signTestToken } from '@jobtracker/test-support/tokens';
import type { TokenOption } from '../auth/token.js';
import { createHttp } from '../http/http.js';
import {
  backoff,
  type ConnectionStatus,
  type SyncMessage,
  startConnection,
  type Transport,
} from './connection.js';

interface FakeStream {
  push(text: string): void;
  end(): void;
  headers: Headers;
}

/** A fake job API: answers polls from `poll`, and hands each stream request to `onStream`. */
function fakeServer(handlers: { onStream(stream: FakeStream): Response | undefined; poll?: () => Response }) {
  const requests: { path: string; headers: Headers; at: number }[] = [];
  const fetch = async (input: RequestInfo | URL, init?: RequestInit) => {
    const url = new URL(String(input));
    const headers = new Headers(init?.headers);
    requests.push({ path: url.pathname + url.search, headers, at: performance.now() });
    if (url.pathname.endsWith('/jobs/stream')) {
      let controller!: ReadableStreamDefaultController<Uint8Array>;
      const body = new ReadableStream<Uint8Array>({
        start: (c) => {
          controller = c;
        },
      });
      init?.signal?.addEventListener('abort', () => {
        try {
          controller.error(new DOMException('aborted', 'AbortError'));
        } catch {}
      });
      const stream: FakeStream = {
        push: (text) => controller.enqueue(new TextEncoder().encode(text)),
        // A stream the client already aborted stays errored: ending it later is a no-op.
        end: () => {
          try {
            controller.close();
          } catch {}
        },
        headers,
      };
      return (
        handlers.onStream(stream) ?? new Response(body, { headers: { 'Content-Type': 'text/event-stream' } })
      );
    }
    if (handlers.poll) return handlers.poll();
    return new Response('{}', { status: 404 });
  };
  return { fetch: fetch as typeof globalThis.fetch, requests };
}

function run(
  fetch: typeof globalThis.fetch,
  transport: Transport,
  {
    token,
    ...extra
  }: {
    watchdogMs?: number;
    firstEventMs?: number;
    sseRetryMs?: number;
    sseRetryFirstMs?: number;
    pollActiveMs?: number;
    pollIdleMs?: number;
    busy?: () => boolean;
    token?: TokenOption;
  } = {},
) {
  const delivered: SyncMessage[] = [];
  const statuses: ConnectionStatus[] = [];
  let cursor: string | null = null;
  const { stop, wake } = startConnection({
    http: createHttp({ baseUrl: 'http://jobs.test/api', fetch, token }),
    transport,
    cursor: () => cursor,
    deliver: (message) => {
      delivered.push(message);
      cursor = message.cursor;
    },
    status: (status) => statuses.push(status),
    busy: () => true,
    hidden: () => false,
    offline: () => false,
    pollActiveMs: 20,
    random: () => 0.01,
    ...extra,
  });
  return { delivered, statuses, stop, wake, state: () => statuses.at(-1)?.state };
}

const snapshot = (cursor: string) =>
  `id: ${cursor}\nevent: snapshot\ndata: {"jobs":[],"cursor":"${cursor}"}\n\n` +
  `id: ${cursor}\nevent: ready\ndata: {"cursor":"${cursor}"}\n\n`;
const pollAnswer = () => Response.json({ jobs: [], cursor: '7' }, { headers: { ETag: '"7-x"' } });
const isPoll = (request: { path: string }) => request.path.startsWith('/api/jobs?since=');
const isStream = (request: { path: string }) => request.path.endsWith('/jobs/stream');
const gaps = (times: number[]) => times.slice(1).map((time, i) => time - (times[i] as number));
/** Timers may fire a hair before the period as `performance.now()` measures it. */
const SLACK_MS = 3;

describe('connection', () => {
  it('falls back to polling when a stream opens but never delivers (a buffering proxy)', async () => {
    const server = fakeServer({ onStream: () => undefined, poll: pollAnswer });
    const connection = run(server.fetch, 'auto', { firstEventMs: 100 });
    await eventually(() => connection.state() === 'polling', 3000, 'polling');
    assert.ok(
      server.requests.some((r) => r.path.startsWith('/api/jobs?since=')),
      'it polls with since=',
    );
    const polls = server.requests.filter((r) => r.path.startsWith('/api/jobs?since='));
    await eventually(
      () => server.requests.filter((r) => r.path.startsWith('/api/jobs?since=')).length > polls.length + 1,
    );
    assert.equal(
      server.requests.at(-1)?.headers.get('if-none-match'),
      '"7-x"',
      'polls revalidate with the ETag',
    );
    connection.stop();
  });

  it('reconnects from its cursor when heartbeats stop (a half-open connection)', async () => {
    const streams: FakeStream[] = [];
    const server = fakeServer({
      onStream: (stream) => {
        streams.push(stream);
        const nth = streams.length;
        const first = snapshot('41');
        const second = 'id: 42\nevent: job\ndata: {"id":"a","version":1}\n\n';
        if (nth <= 2) setTimeout(() => stream.push(nth === 1 ? first : second), 5);
        return undefined;
      },
    });
    const connection = run(server.fetch, 'sse', { watchdogMs: 150 });
    await eventually(() => streams.length >= 2, 3000, 'a second stream after silence');
    assert.equal(streams[1]?.headers.get('last-event-id'), '41');
    await eventually(() => connection.delivered.length >= 3);
    assert.deepEqual(
      connection.delivered.map((m) => [m.kind, m.cursor]),
      [
        ['snapshot', '41'],
        ['jobs', '41'],
        ['jobs', '42'],
      ],
    );
    connection.stop();
  });

  /** Ways a stream fails while the rest of the API answers (a proxy or CDN in the way). */
  const brokenStreams: [string, (stream: FakeStream) => Response | undefined][] = [
    [
      'is reset before any byte',
      () => {
        throw new TypeError('fetch failed');
      },
    ],
    ...[404, 500, 502, 503].map((status): [string, () => Response] => [
      `is refused with ${status}`,
      () => new Response('refused', { status }),
    ]),
    ['sends its headers and then nothing', () => undefined],
    [
      'sends its headers and closes at once',
      (stream) => {
        stream.end();
        return undefined;
      },
    ],
    [
      'delivers its snapshot and closes at once',
      (stream) => {
        stream.push(snapshot('3'));
        stream.end();
        return undefined;
      },
    ],
  ];
  for (const [how, onStream] of brokenStreams) {
    it(`polls right after the first stream attempt when the stream ${how} while the API answers`, async () => {
      const server = fakeServer({ onStream, poll: pollAnswer });
      const connection = run(server.fetch, 'auto', { firstEventMs: 100 });
      await eventually(() => connection.state() === 'polling', 3000, 'polling');
      await eventually(() => server.requests.filter(isPoll).length >= 3, 3000, 'three polls');
      connection.stop();
      const firstPoll = server.requests.findIndex(isPoll);
      assert.equal(
        server.requests.slice(0, firstPoll).filter(isStream).length,
        1,
        'one failed stream attempt, then a poll',
      );
      assert.deepEqual(
        connection.delivered.at(-1),
        { kind: 'jobs', jobs: [], cursor: '7' },
        'the poll is taken',
      );
    });
  }

  it('polls within 5 s by default when a stream sends its headers and then nothing (a buffering proxy)', async () => {
    const server = fakeServer({ onStream: () => undefined, poll: pollAnswer });
    const connection = run(server.fetch, 'auto', {});
    await eventually(() => server.requests.some(isPoll), 5000, 'a poll within 5 s');
    connection.stop();
    const [stream, poll] = [server.requests.find(isStream)?.at ?? 0, server.requests.find(isPoll)?.at ?? 0];
    assert.ok(
      poll - stream < 5000,
      `the first poll came ${Math.round(poll - stream)} ms after the stream request`,
    );
  });

  it('while polling, tries the stream again after sseRetryFirstMs, doubling up to sseRetryMs, and keeps polling meanwhile', async () => {
    const server = fakeServer({
      onStream: (stream) => {
        stream.end();
        return undefined;
      },
      poll: pollAnswer,
    });
    const connection = run(server.fetch, 'auto', { sseRetryFirstMs: 100, sseRetryMs: 400 });
    await eventually(() => server.requests.filter(isStream).length >= 6, 5000, 'six stream attempts');
    connection.stop();
    const streams = server.requests.filter(isStream).map((request) => request.at);
    const waits = gaps(streams);
    for (const [i, expected] of [100, 200, 400, 400, 400].entries()) {
      const wait = waits[i] ?? 0;
      assert.ok(
        wait >= expected - SLACK_MS && wait < expected + 300,
        `retry ${i + 1} came after ${Math.round(wait)} ms, not about ${expected} ms`,
      );
      const polls = server.requests.filter(
        (r) => isPoll(r) && r.at > (streams[i] ?? 0) && r.at < (streams[i + 1] ?? 0),
      );
      assert.ok(polls.length >= 2, `${polls.length} polls before retry ${i + 1}`);
    }
    assert.ok(
      connection.statuses.every((s) => s.state !== 'error' && s.state !== 'live'),
      `never an error nor live: ${connection.statuses.map((s) => s.state)}`,
    );
  });

  it('tries the stream again when it is due even while an idle poll period runs', async () => {
    const server = fakeServer({
      onStream: (stream) => {
        stream.end();
        return undefined;
      },
      poll: pollAnswer,
    });
    const connection = run(server.fetch, 'auto', {
      busy: () => false,
      pollActiveMs: 50,
      pollIdleMs: 5000,
      sseRetryFirstMs: 300,
    });
    await eventually(() => server.requests.filter(isStream).length >= 2, 3000, 'a second stream attempt');
    connection.stop();
    const [first, second] = server.requests.filter(isStream).map((request) => request.at);
    const waited = (second ?? 0) - (first ?? 0);
    assert.ok(
      waited >= 300 - SLACK_MS && waited < 600,
      `the stream was tried again after ${Math.round(waited)} ms`,
    );
  });

  it('takes the stream back once it holds, and stops polling', async () => {
    let broken = true;
    const server = fakeServer({
      onStream: (stream) => {
        if (broken) throw new TypeError('fetch failed');
        stream.push(snapshot('9'));
        return undefined;
      },
      poll: pollAnswer,
    });
    const connection = run(server.fetch, 'auto', { sseRetryFirstMs: 100 });
    await eventually(() => connection.state() === 'polling', 3000, 'polling');
    broken = false;
    await eventually(() => connection.state() === 'live', 3000, 'the stream again');
    const polls = server.requests.filter(isPoll).length;
    await new Promise((resolve) => setTimeout(resolve, 300));
    connection.stop();
    assert.equal(server.requests.filter(isPoll).length, polls, 'no poll while the stream holds');
  });

  it('reconnects by SSE alone, without polling, when a stream that held for seconds ends', async () => {
    const server = fakeServer({
      onStream: (stream) => {
        stream.push(snapshot('5'));
        setTimeout(() => stream.end(), 3500);
        return undefined;
      },
      poll: pollAnswer,
    });
    const connection = run(server.fetch, 'auto');
    await eventually(() => server.requests.filter(isStream).length >= 2, 6000, 'a second stream');
    await eventually(() => connection.state() === 'live', 3000, 'live again');
    connection.stop();
    assert.equal(server.requests.filter(isPoll).length, 0, 'no poll');
  });

  it('keeps the stream after a 401 that a fresh token cures', async () => {
    let issued = 0;
    const server = fakeServer({
      onStream: (stream) => {
        if (stream.headers.get('authorization') === 'Bearer first') return new Response('', { status: 401 });
        stream.push(snapshot('2'));
        return undefined;
      },
      poll: pollAnswer,
    });
    const connection = run(server.fetch, 'auto', { token: () => (issued++ === 0 ? 'first' : 'fresh') });
    await eventually(() => connection.state() === 'live', 3000, 'live');
    connection.stop();
    assert.deepEqual(
      server.requests.map((r) => [r.path, r.headers.get('authorization')]),
      [
        ['/api/jobs/stream', 'Bearer first'],
        ['/api/jobs/stream', 'Bearer fresh'],
      ],
      'the stream is asked again with a fresh token, and nothing is polled',
    );
  });

  it('keeps trying the stream, and reports the error, while neither the stream nor a poll answers', async () => {
    const paths: string[] = [];
    const fetch = (async (input: RequestInfo | URL) => {
      paths.push(new URL(String(input)).pathname);
      throw new TypeError('fetch failed');
    }) as typeof globalThis.fetch;
    const connection = run(fetch, 'auto');
    await eventually(() => paths.filter((path) => path.endsWith('/stream')).length >= 5, 3000, 'retries');
    connection.stop();
    assert.equal(connection.state(), 'error');
    assert.equal(connection.statuses.at(-1)?.error?.code, 'network');
    assert.ok(
      connection.statuses.every((s) => s.state !== 'polling'),
      'it never says it is polling',
    );
  });

  it('stops for good when stopped: no request after stop', async () => {
    const server = fakeServer({
      onStream: (stream) => {
        setTimeout(() => stream.push(snapshot('1')), 1);
        return undefined;
      },
    });
    const connection = run(server.fetch, 'sse');
    await eventually(() => connection.state() === 'live');
    connection.stop();
    const count = server.requests.length;
    await new Promise((resolve) => setTimeout(resolve, 200));
    assert.equal(server.requests.length, count);
  });

  it('polls every pollActiveMs while jobs are active and every pollIdleMs while none is', async () => {
    const server = fakeServer({ onStream: () => undefined, poll: pollAnswer });
    let busy = true;
    const connection = run(server.fetch, 'poll', { busy: () => busy, pollActiveMs: 30, pollIdleMs: 400 });
    const polls = () => server.requests.filter(isPoll).map((request) => request.at);
    await eventually(() => polls().length >= 6, 3000, 'six polls while busy');
    busy = false;
    // The poll in flight (if any) is the last one followed by the busy period.
    const idleFrom = polls().length;
    await eventually(() => polls().length >= idleFrom + 4, 5000, 'four polls while idle');
    connection.stop();
    const busyGaps = gaps(polls().slice(0, 6));
    const idleGaps = gaps(polls().slice(idleFrom, idleFrom + 4));
    for (const gap of busyGaps) assert.ok(gap >= 30 - SLACK_MS && gap < 400, `busy gap ${gap} ms`);
    for (const gap of idleGaps) assert.ok(gap >= 400 - SLACK_MS, `idle gap ${gap} ms`);
  });

  it('polls at once when woken, instead of waiting out its period', async () => {
    const server = fakeServer({ onStream: () => undefined, poll: pollAnswer });
    const connection = run(server.fetch, 'poll', { busy: () => false, pollActiveMs: 5000, pollIdleMs: 5000 });
    await eventually(() => server.requests.some(isPoll), 3000, 'a first poll');
    await new Promise((resolve) => setTimeout(resolve, 100));
    connection.wake();
    await eventually(() => server.requests.filter(isPoll).length >= 2, 1000, 'a poll right after the wake');
    connection.stop();
  });

  it('polls within pollActiveMs, not pollIdleMs, when a job starts during an idle wait', async () => {
    const server = fakeServer({ onStream: () => undefined, poll: pollAnswer });
    let busy = false;
    const connection = run(server.fetch, 'poll', { busy: () => busy, pollActiveMs: 50, pollIdleMs: 5000 });
    await eventually(() => server.requests.some(isPoll), 3000, 'a first poll');
    await new Promise((resolve) => setTimeout(resolve, 200));
    busy = true;
    const startedAt = performance.now();
    await eventually(() => server.requests.filter(isPoll).length >= 2, 3000, 'a poll for the new job');
    connection.stop();
    const waited = (server.requests.filter(isPoll)[1]?.at ?? 0) - startedAt;
    assert.ok(waited < 500, `the next poll came ${Math.round(waited)} ms after the job started`);
  });

  it('asks the token function again before a request when its token expires within 30 s', async () => {
    for (const expiresIn of [10, 600]) {
      const server = fakeServer({ onStream: () => undefined, poll: pollAnswer });
      const issued: string[] = [];
      const token = () => {
        const fresh = signTestToken(`user-${issued.length}`, 'secret', expiresIn);
        issued.push(fresh);
        return fresh;
      };
      const connection = run(server.fetch, 'poll', { token });
      await eventually(() => server.requests.filter(isPoll).length >= 4, 3000, 'four polls');
      connection.stop();
      const sent = server.requests.filter(isPoll).map((request) => request.headers.get('authorization'));
      if (expiresIn === 10) {
        assert.deepEqual(
          sent,
          issued.slice(0, sent.length).map((t) => `Bearer ${t}`),
          'a token about to expire is replaced before every request',
        );
      } else {
        assert.equal(issued.length, 1, 'a token far from expiry is reused');
        assert.deepEqual(new Set(sent), new Set([`Bearer ${issued[0]}`]));
      }
    }
  });

  it('backs off exponentially with full jitter, capped at 2.5 s through a short outage and 30 s after', () => {
    assert.deepEqual(
      [1, 2, 3, 4, 5, 24, 25].map((failures) => backoff(failures, () => 1)),
      [500, 1000, 2000, 2500, 2500, 2500, 30_000],
    );
    assert.equal(
      backoff(1, () => 1),
      500,
    );
    assert.equal(
      backoff(3, () => 1),
      2000,
    );
    assert.equal(
      backoff(30, () => 1),
      30_000,
    );
    assert.equal(
      backoff(3, () => 0),
      0,
    );
    assert.equal(
      backoff(3, () => 0.5),
      1000,
    );
  });
});
