/** Load drivers over HTTP for the SSE benchmarks: a keep-alive client, a closed loop, a fixed rate, running jobs. */
import http from 'node:http';
import { performance } from 'node:perf_hooks';
import { signToken } from '@jobtracker/server';

export interface HttpAnswer {
  status: number;
  body: string;
}

/** A keep-alive HTTP/1.1 client for 127.0.0.1. */
export class HttpClient {
  readonly agent: http.Agent;

  constructor(
    readonly port: number,
    sockets = 64,
  ) {
    this.agent = new http.Agent({ keepAlive: true, maxSockets: sockets, maxFreeSockets: sockets });
  }

  /**
   * Closes the idle keep-alive sockets. A server closes one idle for its keep-alive timeout (5 s in
   * node:http) and a request racing that close fails with ECONNRESET: call it after a pause longer than
   * that, e.g. while another server had its turn.
   */
  dropIdle(): void {
    for (const sockets of Object.values(this.agent.freeSockets)) {
      for (const socket of sockets ?? []) socket.destroy();
    }
  }

  request(method: string, path: string, headers: Record<string, string>, body?: string): Promise<HttpAnswer> {
    return new Promise((resolve, reject) => {
      const request = http.request(
        {
          host: '127.0.0.1',
          port: this.port,
          method,
          path,
          agent: this.agent,
          headers: body === undefined ? headers : { ...headers, 'content-length': Buffer.byteLength(body) },
        },
        (response) => {
          let text = '';
          response.setEncoding('utf8');
          response.on('data', (chunk: string) => {
            text += chunk;
          });
          response.on('end', () => resolve({ status: response.statusCode ?? 0, body: text }));
          response.on('error', reject);
        },
      );
      request.on('error', reject);
      request.end(body);
    });
  }

  json<T>(method: string, path: string, auth: string, body?: unknown): Promise<{ status: number; data: T }> {
    const headers: Record<string, string> = { authorization: `Bearer ${auth}` };
    if (body !== undefined) headers['content-type'] = 'application/json';
    return this.request(method, path, headers, body === undefined ? undefined : JSON.stringify(body)).then(
      (answer) => ({ status: answer.status, data: (answer.body ? JSON.parse(answer.body) : null) as T }),
    );
  }

  close(): void {
    this.agent.destroy();
  }
}

/** Runs `count` calls with at most `concurrency` in flight; resolves with the wall time in ms. */
export async function closedLoop(
  count: number,
  concurrency: number,
  call: (i: number) => Promise<void>,
): Promise<number> {
  const start = performance.now();
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(concurrency, count) }, async () => {
      while (next < count) await call(next++);
    }),
  );
  return performance.now() - start;
}

export interface RateResult {
  /** Calls answered 2xx within the phase. */
  ok: number;
  errors: number;
  /** From the first send to the last answer, ms. */
  elapsedMs: number;
  /** Request round trips (send → answer), ms. */
  roundTrips: number[];
  firstError: string | null;
}

/**
 * Sends at `rate` per second for `durationMs` (open loop, paced by a 1 ms timer and by answers, at most
 * `maxInFlight` outstanding; when the server falls behind the sender catches up as capacity frees, and
 * the achieved rate says how far it fell short).
 */
export function atRate(
  rate: number,
  durationMs: number,
  maxInFlight: number,
  send: (i: number) => Promise<number>,
): Promise<RateResult> {
  return new Promise((resolve) => {
    const start = performance.now();
    const result: RateResult = { ok: 0, errors: 0, elapsedMs: 0, roundTrips: [], firstError: null };
    let issued = 0;
    let inFlight = 0;
    let stopped = false;
    let timer: NodeJS.Timeout | null = null;
    const finish = () => {
      if (timer) clearTimeout(timer);
      result.elapsedMs = performance.now() - start;
      resolve(result);
    };
    const pump = () => {
      const elapsed = performance.now() - start;
      if (elapsed >= durationMs) stopped = true;
      if (stopped) {
        if (inFlight === 0) finish();
        return;
      }
      const due = Math.floor((rate * elapsed) / 1000) + 1;
      while (issued < due && inFlight < maxInFlight) {
        const sentAt = performance.now();
        inFlight++;
        send(issued++).then(
          (status) => {
            inFlight--;
            if (status >= 200 && status < 300) {
              result.ok++;
              result.roundTrips.push(performance.now() - sentAt);
            } else {
              result.errors++;
              result.firstError ??= `HTTP ${status}`;
            }
            pump();
          },
          (error: unknown) => {
            inFlight--;
            result.errors++;
            result.firstError ??= error instanceof Error ? error.message : String(error);
            pump();
          },
        );
      }
    };
    const tick = () => {
      pump();
      if (!stopped) timer = setTimeout(tick, 1);
    };
    tick();
  });
}

/** Creates one job per owner (type `type`) and claims them all through the worker API. */
export async function runningJobs(
  api: HttpClient,
  server: { secret: string; workerKey: string },
  owners: string[],
  type: string,
  concurrency = 16,
): Promise<{ id: string; owner: string; leaseToken: string }[]> {
  await closedLoop(owners.length, concurrency, async (i) => {
    const owner = owners[i] as string;
    const token = signToken({ sub: owner, expiresInSeconds: 3600 }, server.secret);
    const { status } = await api.json('POST', '/api/jobs', token, { type, title: `bench ${owner}` });
    if (status !== 201) throw new Error(`creating a job for ${owner} answered ${status}`);
  });
  const jobs: { id: string; owner: string; leaseToken: string }[] = [];
  await closedLoop(owners.length, concurrency, async () => {
    const { status, data } = await api.json<{ job: { id: string }; ownerId: string; leaseToken: string }>(
      'POST',
      '/api/worker/claim',
      server.workerKey,
      { types: [type], leaseMs: 3_600_000 },
    );
    if (status !== 200) throw new Error(`claim answered ${status}`);
    jobs.push({ id: data.job.id, owner: data.ownerId, leaseToken: data.leaseToken });
  });
  return jobs;
}

/** Mean of a list (NaN when empty). */
export const mean = (values: number[]) =>
  values.length === 0 ? Number.NaN : values.reduce((sum, value) => sum + value, 0) / values.length;
