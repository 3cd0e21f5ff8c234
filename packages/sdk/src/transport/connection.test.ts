import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { TokenOption } from '../auth/token.js';
import { createHttp } from '../http/http.js';
import { eventually, signTestToken } from '../testing/tokens.js';
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
        end: () => controller.close(),
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
    pollActiveMs?: number;
    pollIdleMs?: number;
    busy?: () => boolean;
    token?: TokenOption;
  } = {},
) {
  const delivered: SyncMessage[] = [];
  const statuses: ConnectionStatus[] = [];
  let cursor: string | null = null;
  const stop = startConnection({
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
    onWake: () => () => {},
    pollActiveMs: 20,
    random: () => 0.01,
    ...extra,
  });
  return { delivered, statuses, stop, state: () => statuses.at(-1)?.state };
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

  it('polls when the stream is refused repeatedly while the API answers', async () => {
    const server = fakeServer({
      onStream: () => new Response('bad gateway', { status: 502 }),
      poll: pollAnswer,
    });
    const connection = run(server.fetch, 'auto');
    await eventually(() => connection.state() === 'polling', 3000, 'polling');
    assert.equal(server.requests.filter((r) => r.path.endsWith('/stream')).length, 3);
    connection.stop();
  });

  it('keeps trying the stream, and reports the error, while the server is unreachable', async () => {
    let attempts = 0;
    const fetch = (async () => {
      attempts++;
      throw new TypeError('fetch failed');
    }) as typeof globalThis.fetch;
    const connection = run(fetch, 'auto');
    await eventually(() => attempts >= 5, 3000, 'retries');
    assert.equal(connection.state(), 'error');
    assert.equal(connection.statuses.at(-1)?.error?.code, 'network');
    assert.ok(
      connection.statuses.every((s) => s.state !== 'polling'),
      'it never falls back to polling',
    );
    connection.stop();
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

  it('tries the stream again sseRetryMs after falling back to polling', async () => {
    let refuse = true;
    const server = fakeServer({
      onStream: (stream) => {
        if (refuse) return new Response('bad gateway', { status: 502 });
        setTimeout(() => stream.push(snapshot('9')), 1);
        return undefined;
      },
      poll: pollAnswer,
    });
    const connection = run(server.fetch, 'auto', { sseRetryMs: 500 });
    await eventually(() => connection.state() === 'polling', 3000, 'polling');
    refuse = false;
    await eventually(() => connection.state() === 'live', 3000, 'the stream again');
    connection.stop();
    const streams = server.requests.filter(isStream);
    assert.equal(streams.length, 4, 'three refusals, then one stream after the retry period');
    const [fellBackAt, retriedAt] = [streams[2]?.at ?? 0, streams[3]?.at ?? 0];
    const waited = retriedAt - fellBackAt;
    assert.ok(waited >= 500 - SLACK_MS && waited < 2000, `the stream was tried again after ${waited} ms`);
    const pollsMeanwhile = server.requests.filter((r) => isPoll(r) && r.at > fellBackAt && r.at < retriedAt);
    assert.ok(pollsMeanwhile.length >= 3, `${pollsMeanwhile.length} polls while waiting`);
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
