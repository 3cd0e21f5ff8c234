// What the job client's integration tests share: a worker driven over HTTP, a fetch that records the
// client's requests, a port nothing listens on, and a watcher of the client's stores.
import { createServer } from 'node:net';
import type { Job, JobClient } from '@jobtracker/sdk';

export const WORKER = 'test-worker-key';

/** Drives a job through the worker API, as a worker process would. */
export function worker(base: string) {
  const call = async (path: string, body: unknown) => {
    const response = await fetch(`${base}/api/worker${path}`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${WORKER}`, 'Content-Type': 'application/json' },
      body: JSON.stringify(body),
    });
    return { status: response.status, json: response.status === 204 ? null : await response.json() };
  };
  return {
    async claim(type: string) {
      const { json } = await call('/claim', { types: [type], leaseMs: 60_000 });
      return json as { job: Job; leaseToken: string };
    },
    progress: (id: string, leaseToken: string, progress: number, message: string) =>
      call(`/jobs/${id}/progress`, { leaseToken, progress, message }),
    complete: (id: string, leaseToken: string, result: unknown) =>
      call(`/jobs/${id}/complete`, { leaseToken, result }),
    fail: (id: string, leaseToken: string, message: string) =>
      call(`/jobs/${id}/fail`, { leaseToken, error: { message, code: 'test_failure' } }),
  };
}

export interface RecordedRequest {
  path: string;
  headers: Headers;
  /** The answer's status, or null while unanswered or when the server could not be reached. */
  status: number | null;
}

/**
 * A `fetch` for the client that records each request (path, headers, status) and its answer in `log`,
 * and can hold stream requests back (as a slow network would) until released.
 */
export function recordingFetch() {
  const requests: RecordedRequest[] = [];
  const log: string[] = [];
  let held: Promise<void> | null = null;
  let release = () => {};
  const recording: typeof fetch = async (input, init) => {
    const url = new URL(String(input));
    const record: RecordedRequest = {
      path: url.pathname,
      headers: new Headers(init?.headers),
      status: null,
    };
    requests.push(record);
    if (held && url.pathname.endsWith('/jobs/stream')) await held;
    try {
      const response = await fetch(input, init);
      record.status = response.status;
      log.push(`${record.path} ${response.status}`);
      return response;
    } catch (error) {
      log.push(`${record.path} unreachable`);
      throw error;
    }
  };
  return {
    fetch: recording,
    requests,
    log,
    hold() {
      held = new Promise((resolve) => {
        release = resolve;
      });
    },
    release() {
      held = null;
      release();
    },
  };
}

/** A loopback port that nothing listens on. */
export async function closedPort(): Promise<number> {
  const listener = createServer();
  await new Promise<void>((resolve) => listener.listen(0, '127.0.0.1', resolve));
  const { port } = listener.address() as { port: number };
  await new Promise((resolve) => listener.close(resolve));
  return port;
}

/** Subscribes to the client's stores (which starts its connection) and records what it saw. */
export function watch(client: JobClient) {
  const seen: Job[] = [];
  const stop = client.$jobs.listen((jobs) => {
    for (const job of Object.values(jobs)) {
      const last = seen.findLast((s) => s.id === job.id);
      if (!last || last.version !== job.version) seen.push(job);
    }
  });
  const stopConnection = client.$connection.subscribe(() => {});
  return {
    seen,
    stop() {
      stop();
      stopConnection();
    },
  };
}
