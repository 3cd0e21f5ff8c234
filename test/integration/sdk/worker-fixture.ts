// What the worker's integration tests share: a real server per suite, jobs created and read over HTTP,
// the owner's event stream, and workers that are stopped when the tests end.
import assert from 'node:assert/strict';
import { after } from 'node:test';
import { setTimeout as delay } from 'node:timers/promises';
import { type Job, type JsonValue, TERMINAL_STATUSES } from '@jobtracker/sdk/wire';
import { createWorker, type Worker, type WorkerOptions } from '@jobtracker/sdk/worker';
import { type ServerProcess, startServerProcess } from '@jobtracker/test-support/server-process';

export const WORKER_KEY = 'k';
export const SERVER_ARGS = ['--worker-key', WORKER_KEY, '--lease-ms', '2000'];

/** Polls `check` until it answers something truthy, or fails after `ms`. */
export async function eventually<T>(
  check: () => T | Promise<T>,
  ms: number,
  what: string,
): Promise<NonNullable<T>> {
  const deadline = Date.now() + ms;
  let last: unknown;
  for (;;) {
    try {
      const value = await check();
      if (value) return value as NonNullable<T>;
    } catch (error) {
      last = error;
    }
    if (Date.now() > deadline) {
      throw new Error(`Timed out after ${ms} ms waiting for ${what}${last ? ` (last error: ${last})` : ''}`);
    }
    await delay(25);
  }
}

/** A promise with its resolve function, for "the handler got this far". */
export function signalled<T = void>() {
  let resolve!: (value: T) => void;
  const promise = new Promise<T>((r) => {
    resolve = r;
  });
  return { promise, resolve };
}

export const servers = new Set<ServerProcess>();
const workers = new Set<Worker>();

after(async () => {
  await Promise.all([...workers].map((worker) => worker.stop()));
  await Promise.all([...servers].map((server) => server.kill()));
});

export async function startServer(): Promise<ServerProcess> {
  const server = await startServerProcess({ args: SERVER_ARGS });
  servers.add(server);
  return server;
}

export async function createJob(
  server: ServerProcess,
  body: { type: string; input?: JsonValue; dedupe?: boolean },
): Promise<Job> {
  const response = await fetch(`${server.url}/api/jobs`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify(body),
  });
  assert.equal(response.status, 201, `job created (${response.status})`);
  return ((await response.json()) as { job: Job }).job;
}

export async function getJob(server: ServerProcess, id: string): Promise<Job> {
  const response = await fetch(`${server.url}/api/jobs/${id}`);
  assert.equal(response.status, 200);
  return ((await response.json()) as { job: Job }).job;
}

export const settledJob = (server: ServerProcess, id: string, ms = 10_000) =>
  eventually(
    async () => {
      const job = await getJob(server, id);
      return TERMINAL_STATUSES.includes(job.status) ? job : null;
    },
    ms,
    `job ${id} to finish`,
  );

/** Reads the owner's SSE stream, collecting every state of a job it conveys (`progress` deltas applied). */
export async function openStream(server: ServerProcess) {
  const controller = new AbortController();
  const response = await fetch(`${server.url}/api/jobs/stream`, {
    headers: { Accept: 'text/event-stream' },
    signal: controller.signal,
  });
  assert.equal(response.status, 200);
  const body = response.body;
  assert.ok(body, 'the stream has a body');
  const jobs: Job[] = [];
  let snapshot = false;
  const reader = body.pipeThrough(new TextDecoderStream()).getReader();
  const pump = (async () => {
    let buffer = '';
    try {
      for (;;) {
        const { value, done } = await reader.read();
        if (done) return;
        buffer += value;
        for (let end = buffer.indexOf('\n\n'); end >= 0; end = buffer.indexOf('\n\n')) {
          const frame = buffer.slice(0, end).split('\n');
          buffer = buffer.slice(end + 2);
          const event = frame.find((line) => line.startsWith('event: '))?.slice(7);
          const data = frame.find((line) => line.startsWith('data: '))?.slice(6);
          if (event === 'snapshot') snapshot = true;
          if (event === 'job' && data) jobs.push(JSON.parse(data) as Job);
          if (event === 'progress' && data) {
            // A delta, on top of the job's version before it.
            const delta = JSON.parse(data) as Pick<Job, 'id' | 'version'>;
            const base = jobs.findLast((job) => job.id === delta.id);
            if (base?.version === delta.version - 1) jobs.push({ ...base, ...delta });
          }
        }
      }
    } catch {
      // aborted by close()
    }
  })();
  await eventually(() => snapshot, 5000, 'the stream snapshot');
  return {
    jobs,
    async close() {
      controller.abort();
      await pump;
    },
  };
}

/** Creates a worker against `server` and stops it when the tests end. */
export function startWorker(
  server: ServerProcess,
  options: Omit<WorkerOptions, 'baseUrl' | 'workerKey'> & { workerKey?: string },
): Worker {
  const worker = createWorker({
    baseUrl: `${server.url}/api`,
    workerKey: WORKER_KEY,
    onError: () => {},
    ...options,
  });
  workers.add(worker);
  worker.start();
  return worker;
}

/** A worker (see `startWorker`) whose `onError` reports are collected in `errors`. */
export function startReportingWorker(
  server: ServerProcess,
  options: Omit<WorkerOptions, 'baseUrl' | 'workerKey' | 'onError'> & { workerKey?: string },
): { worker: Worker; errors: unknown[] } {
  const errors: unknown[] = [];
  const worker = startWorker(server, { ...options, onError: (error) => errors.push(error) });
  return { worker, errors };
}
