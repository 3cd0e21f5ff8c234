import type { TokenOption } from '../auth/token.js';
import { createHttp } from '../http/http.js';
import {
  type ConnectionStatus,
  type SyncMessage,
  startConnection,
  type Transport,
} from '../transport/connection.js';

export interface FakeStream {
  push(text: string): void;
  end(): void;
  headers: Headers;
}

/** A fake job API: answers polls from `poll`, and hands each stream request to `onStream`. */
export function fakeServer(handlers: {
  onStream(stream: FakeStream): Response | undefined;
  poll?: () => Response;
}) {
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

export function run(
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

export const snapshot = (cursor: string) =>
  `id: ${cursor}\nevent: snapshot\ndata: {"jobs":[],"cursor":"${cursor}"}\n\n` +
  `id: ${cursor}\nevent: ready\ndata: {"cursor":"${cursor}"}\n\n`;
export const pollAnswer = () => Response.json({ jobs: [], cursor: '7' }, { headers: { ETag: '"7-x"' } });
export const isPoll = (request: { path: string }) => request.path.startsWith('/api/jobs?since=');
export const isStream = (request: { path: string }) => request.path.endsWith('/jobs/stream');
export const gaps = (times: number[]) => times.slice(1).map((time, i) => time - (times[i] as number));
/** Timers may fire a hair before the period as `performance.now()` measures it. */
export const SLACK_MS = 3;
