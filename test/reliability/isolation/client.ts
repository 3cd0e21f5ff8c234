import assert from 'node:assert/strict';
import type { Job } from '@jobtracker/sdk';
import { readSseBlock, SseReader } from '@jobtracker/test-support/server';
import { WORKER_KEY } from './users.js';

export interface Answer {
  status: number;
  text: string;
  contentType: string;
}

/** Runs `work` over `items` with at most `limit` in flight. */
export async function pool<T>(items: readonly T[], limit: number, work: (item: T) => Promise<void>) {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(limit, items.length) }, async () => {
      while (next < items.length) await work(items[next++] as T);
    }),
  );
}

/** The events of a whole SSE answer. */
export function parseSse(text: string) {
  return text
    .split(/\n\n/)
    .map(readSseBlock)
    .flatMap(({ id, event, data }) => (data === undefined ? [] : [{ id, event, data }]));
}

const READY = /(?:^|\n)event: ready\ndata: [^\n]*\n\n/;

/**
 * Requests and streams against the server at `url` with any bearer token; streams held open are
 * registered in `held` so that the test can abort them at the end.
 */
export function isolationClient(url: string, held: AbortController[]) {
  async function send(
    method: string,
    path: string,
    bearer: string,
    body?: unknown,
    headers: Record<string, string> = {},
  ): Promise<Answer> {
    const response = await fetch(`${url}${path}`, {
      method,
      headers: {
        Authorization: `Bearer ${bearer}`,
        ...(body === undefined ? {} : { 'Content-Type': 'application/json' }),
        ...headers,
      },
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: AbortSignal.timeout(10_000),
    });
    return {
      status: response.status,
      text: await response.text(),
      contentType: response.headers.get('content-type') ?? '',
    };
  }

  const json = async (method: string, path: string, bearer: string, body?: unknown) => {
    const answer = await send(method, path, bearer, body);
    return { status: answer.status, body: answer.text ? JSON.parse(answer.text) : null };
  };
  const asWorker = (path: string, body: unknown) => json('POST', `/api/worker${path}`, WORKER_KEY, body);

  async function create(owner: string, body: Record<string, unknown>): Promise<Job> {
    const { status, body: answer } = await json('POST', '/api/jobs', owner, body);
    assert.equal(status, 201, JSON.stringify(answer));
    return answer.job;
  }

  async function claim(type: string) {
    const { status, body } = await asWorker('/claim', { types: [type], leaseMs: 3_600_000 });
    assert.equal(status, 200, `claim ${type}`);
    return body as { job: Job; leaseToken: string };
  }

  /** Opens a stream and reads it until `ready` (or the end), then closes it. */
  async function readUntilReady(path: string, bearer: string, headers: Record<string, string>) {
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(), 10_000);
    try {
      const response = await fetch(`${url}${path}`, {
        headers: { Authorization: `Bearer ${bearer}`, ...headers },
        signal: controller.signal,
      });
      const contentType = response.headers.get('content-type') ?? '';
      if (response.status !== 200 || !response.body) {
        return { status: response.status, text: await response.text(), contentType, ready: false };
      }
      const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
      let text = '';
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        text += value;
        if (READY.test(text)) break;
      }
      return { status: 200, text, contentType, ready: READY.test(text) };
    } finally {
      clearTimeout(timer);
      controller.abort();
    }
  }

  /** A stream held open for the whole barrage. */
  async function holdStream(bearer: string, headers: Record<string, string> = {}) {
    const controller = new AbortController();
    held.push(controller);
    const response = await fetch(`${url}/api/jobs/stream`, {
      headers: { Authorization: `Bearer ${bearer}`, ...headers },
      signal: controller.signal,
    });
    assert.equal(response.status, 200);
    if (!response.body) throw new Error('a stream without a body');
    const [forEvents, forText] = response.body.tee();
    const reader = new SseReader(new Response(forEvents));
    const raw = { text: '' };
    void (async () => {
      try {
        for await (const chunk of forText.pipeThrough(new TextDecoderStream())) raw.text += chunk;
      } catch {
        // closed
      }
    })();
    await reader.until(() => reader.ready.length === 1, 5000, 'ready');
    return { reader, raw, close: () => controller.abort() };
  }

  return { send, json, asWorker, create, claim, readUntilReady, holdStream };
}

export type IsolationClient = ReturnType<typeof isolationClient>;
