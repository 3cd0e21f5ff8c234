import assert from 'node:assert/strict';
import { after, before, type TestContext } from 'node:test';
import type { Job } from '@jobtracker/sdk';
import type { RunningServer } from '@jobtracker/server';
import { signToken } from '@jobtracker/server';
import { SECRET, startReliabilityServer, WORKER_KEY } from '../server.js';

// What the hostile-input tests share: a real server that logs at `info` and serves a host page beside
// the API, requests answered as parsed JSON (or text), and a user's and the worker's headers.

export const token = (sub: string, expiresInSeconds = 600) => signToken({ sub, expiresInSeconds }, SECRET);
export const asUser = (sub: string) => ({ Authorization: `Bearer ${token(sub)}` });
export const json = { 'Content-Type': 'application/json' };
export const asWorker = { Authorization: `Bearer ${WORKER_KEY}`, ...json };

/** An array nested `depth` levels: `[[[…]]]`. */
export const nestedArrays = (depth: number) => `${'['.repeat(depth)}${']'.repeat(depth)}`;
/** An object nested `depth` levels: `{"a":{"a":…1}}`. */
export const nestedObjects = (depth: number) => `${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}`;

/** Every line the server logs through the console, by level, while a test runs. */
export function captureLogs(t: TestContext) {
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

/** A request answered with its status, headers, text, and body parsed as JSON when it is. */
export async function send(url: string, init: RequestInit = {}) {
  const response = await fetch(url, { ...init, signal: AbortSignal.timeout(20_000) });
  const text = await response.text();
  // biome-ignore lint/suspicious/noExplicitAny: the tests read answers field by field, whatever their shape
  let body: any = null;
  try {
    body = JSON.parse(text);
  } catch {
    body = text;
  }
  return { status: response.status, headers: response.headers, body, text };
}

/** The server the hostile-input tests run against, with helpers for user `hostile`'s jobs. */
export interface HostileServer {
  server: RunningServer;
  base: string;
  createJob(type: string, body?: Record<string, unknown>): Promise<Job>;
  claim(type: string): Promise<{ job: Job; leaseToken: string }>;
}

export async function startHostileServer(): Promise<HostileServer> {
  const server = await startReliabilityServer({
    onError: undefined,
    logLevel: 'info',
    heartbeatMs: 1000,
    extend: (app) => app.get('/extra-page', (c) => c.text('a host page')),
  });
  const base = server.url;

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
  return { server, base, createJob, claim };
}

/** Starts the server before the suite's tests and closes it after them; its fields are set from then on. */
export function useHostileServer(): HostileServer {
  const hostile = {} as HostileServer;
  before(async () => {
    Object.assign(hostile, await startHostileServer());
  });
  after(() => hostile.server.close());
  return hostile;
}
