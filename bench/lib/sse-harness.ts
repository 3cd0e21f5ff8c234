/**
 * Parent-side pieces shared by the SSE benchmarks (connections.ts, latency.ts): the server children
 * (jobtracker's CLI with the probe preloaded, and the bare node:http baseline), the SSE load children,
 * /proc readings, a keep-alive HTTP client, and load drivers (closed loop and fixed rate).
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import http from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { signToken } from '@jobtracker/server';
import type { LoadCounts, OpenArgs, OpenResult } from './sse-load.js';
import type { ProbeStats, ProfileSummary } from './sse-probe.js';
import { RpcChild } from './sse-rpc.js';

const here = (file: string) => fileURLToPath(new URL(file, import.meta.url));
const CLI = here('../../packages/server/src/cli.ts');
const PROBE = here('./sse-probe.ts');
const BARE = here('./sse-bare-server.ts');
const LOAD = here('./sse-load.ts');

/** Every child this process started and every temporary folder, killed and removed on exit. */
const children = new Set<ChildProcess>();
const tempDirs = new Set<string>();
process.once('exit', () => {
  for (const child of children) {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  }
  for (const dir of tempDirs) rmSync(dir, { recursive: true, force: true });
});
// Interrupted (Ctrl-C, a timeout's SIGTERM): leave through 'exit', so the above runs.
for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => process.exit(130));

function track(child: ChildProcess): ChildProcess {
  children.add(child);
  child.once('exit', () => children.delete(child));
  return child;
}

const exited = (child: ChildProcess) =>
  child.exitCode !== null || child.signalCode !== null
    ? Promise.resolve()
    : new Promise<void>((resolve) => child.once('exit', () => resolve()));

async function stopChild(child: ChildProcess, graceMs = 5000): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
  await exited(child);
  clearTimeout(timer);
}

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Wall clock in epoch ms with sub-ms resolution, comparable across processes of one machine. */
export const epochNow = () => performance.timeOrigin + performance.now();

/** CPU time (user + system) of a process from /proc/<pid>/stat, in ms (10 ms ticks). */
export function procCpuMs(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) * 10;
}

/** All CPUs of the machine from /proc/stat, in ms: busy (everything but idle and iowait) and total. */
export function machineCpuMs(): { busy: number; total: number } {
  const fields = (readFileSync('/proc/stat', 'utf8').split('\n')[0] ?? '')
    .trim()
    .split(/\s+/)
    .slice(1)
    .map(Number);
  const total = fields.slice(0, 8).reduce((sum, value) => sum + value, 0);
  const idle = (fields[3] ?? 0) + (fields[4] ?? 0);
  return { busy: (total - idle) * 10, total: total * 10 };
}

/** Resident set size of a process from /proc/<pid>/status (VmRSS), in KiB. */
export function procRssKb(pid: number): number {
  const match = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  if (!match?.[1]) throw new Error(`no VmRSS for ${pid}`);
  return Number(match[1]);
}

export interface ServerChild {
  name: string;
  pid: number;
  port: number;
  /** The soft limit on open files of the server process (one per connection). */
  fdLimit: number;
  rpc: RpcChild;
  rssKb(): number;
  cpuMs(): number;
  stats(): Promise<ProbeStats>;
  /** Full GCs (a few, with turns of the event loop between), then the probe's stats. */
  gc(): Promise<ProbeStats>;
  eld(enable: boolean): Promise<void>;
  profileStart(): Promise<void>;
  profileStop(): Promise<ProfileSummary>;
  stop(): Promise<void>;
}

async function startChild(name: string, args: string[], env: Record<string, string>): Promise<ServerChild> {
  const child = track(
    spawn(process.execPath, args, {
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
      serialization: 'advanced',
    }),
  );
  let output = '';
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${name} did not start in 30 s: ${output}`)), 30_000);
    child.stdout?.on('data', (chunk: Buffer) => {
      output += chunk;
      const match = /listening on (http:\/\/\S+)/.exec(output);
      if (match?.[1]) {
        clearTimeout(timer);
        resolve(match[1]);
      }
    });
    child.stderr?.on('data', (chunk: Buffer) => {
      output += chunk;
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`${name} exited with ${code}: ${output}`));
    });
  });
  // Keep draining the pipes so a chatty server never blocks on a full pipe.
  child.stdout?.on('data', () => {});
  const pid = child.pid as number;
  // One fd per connection: lift the server's limit past the shell's 20,000 where we may (it needs
  // CAP_SYS_RESOURCE); otherwise the limit stays, and `fdLimit` says what it is.
  try {
    execFileSync('prlimit', ['--pid', String(pid), '--nofile=65536:65536'], { stdio: 'ignore' });
  } catch {
    // not permitted here
  }
  const fdLimit = Number(
    /Max open files\s+(\d+)/.exec(readFileSync(`/proc/${pid}/limits`, 'utf8'))?.[1] ?? 0,
  );
  const rpc = new RpcChild(child);
  return {
    name,
    pid,
    port: Number(new URL(url).port),
    fdLimit,
    rpc,
    rssKb: () => procRssKb(pid),
    cpuMs: () => procCpuMs(pid),
    stats: () => rpc.call<ProbeStats>('stats'),
    gc: () => rpc.call<ProbeStats>('gc'),
    eld: async (enable) => {
      await rpc.call('eld', { enable, resolutionMs: 1 });
    },
    profileStart: async () => {
      await rpc.call('profileStart', { intervalUs: 250 });
    },
    profileStop: () => rpc.call<ProfileSummary>('profileStop'),
    stop: () => stopChild(child, 10_000),
  };
}

export interface OurServer extends ServerChild {
  secret: string;
  workerKey: string;
  stop(): Promise<void>;
}

/**
 * jobtracker's CLI as it ships (HS256 secret, worker key, a temporary SQLite file), with the probe
 * preloaded (`--import sse-probe.ts`) and `--expose-gc`; the server's own code is not touched.
 */
export async function startOurServer(): Promise<OurServer> {
  const dir = mkdtempSync(join(tmpdir(), 'jobtracker-bench-sse-'));
  tempDirs.add(dir);
  const credentials = {
    secret: randomBytes(24).toString('base64url'),
    workerKey: randomBytes(24).toString('base64url'),
  };
  try {
    const server = await startOurServerOn(`file:${join(dir, 'jobs.db')}`, credentials);
    return {
      ...server,
      async stop() {
        await server.stop();
        rmSync(dir, { recursive: true, force: true });
      },
    };
  } catch (error) {
    rmSync(dir, { recursive: true, force: true });
    throw error;
  }
}

/**
 * The same CLI on a database the caller names (e.g. `postgres://…?schema=…`, shared by several
 * instances started with the same credentials); the caller owns the database.
 */
export async function startOurServerOn(
  db: string,
  credentials: { secret: string; workerKey: string },
  name = 'jobtracker',
): Promise<OurServer> {
  const server = await startChild(
    name,
    [
      '--expose-gc',
      '--conditions=jobtracker-source',
      '--import',
      'tsx',
      '--import',
      PROBE,
      CLI,
      '--port',
      '0',
      `--db=${db}`,
      // Joined with `=`: a base64url key may start with '-', which parseArgs would take for an option.
      `--secret=${credentials.secret}`,
      `--worker-key=${credentials.workerKey}`,
    ],
    { JOBTRACKER_SECRET: '', JOBTRACKER_WORKER_KEY: '' },
  );
  return { ...server, ...credentials };
}

/** The bare node:http SSE server (sse-bare-server.ts); `jobTemplate` is a job as ours sends it. */
export async function startBareServer(jobTemplate: string): Promise<ServerChild & { secret: string }> {
  const server = await startChild('bare node:http', ['--expose-gc', '--import', 'tsx', BARE], {
    BARE_JOB_TEMPLATE: jobTemplate,
    BARE_HEARTBEAT_MS: '15000',
  });
  return { ...server, secret: randomBytes(24).toString('base64url') };
}

/** SSE clients spread over a few child processes (each under the fd limit), driven together. */
export class LoadClients {
  private constructor(readonly rpcs: RpcChild[]) {}

  static async start(processes: number): Promise<LoadClients> {
    const rpcs = await Promise.all(
      Array.from({ length: processes }, async () => {
        const child = track(
          spawn(process.execPath, ['--conditions=jobtracker-source', '--import', 'tsx', LOAD], {
            stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
            serialization: 'advanced',
          }),
        );
        const rpc = new RpcChild(child);
        await new Promise<void>((resolve, reject) => {
          const timer = setTimeout(() => reject(new Error('load client did not start in 30 s')), 30_000);
          rpc.on('up', () => {
            clearTimeout(timer);
            resolve();
          });
          child.once('exit', (code) => reject(new Error(`load client exited with ${code}`)));
        });
        return rpc;
      }),
    );
    return new LoadClients(rpcs);
  }

  get pids(): number[] {
    return this.rpcs.map((rpc) => rpc.child.pid as number);
  }

  /** Opens one stream per user, spread over the children; counts those that delivered `ready`. */
  async open(
    port: number,
    users: string[],
    secret: string,
    options: { concurrency?: number; timeoutMs?: number; path?: string } = {},
  ): Promise<OpenResult> {
    const share = this.rpcs.map(() => [] as string[]);
    for (const [i, user] of users.entries()) share[i % share.length]?.push(user);
    const results = await Promise.all(
      this.rpcs.map((rpc, i) =>
        rpc.call<OpenResult>(
          'open',
          {
            port,
            path: options.path ?? '/api/jobs/stream',
            users: share[i] ?? [],
            secret,
            concurrency: options.concurrency ?? 64,
            timeoutMs: options.timeoutMs ?? 30_000,
          } satisfies OpenArgs,
          600_000,
        ),
      ),
    );
    return {
      ready: results.reduce((sum, r) => sum + r.ready, 0),
      failed: results.reduce((sum, r) => sum + r.failed, 0),
      errors: results.flatMap((r) => r.errors).slice(0, 5),
    };
  }

  async counts(): Promise<LoadCounts> {
    const all = await Promise.all(this.rpcs.map((rpc) => rpc.call<LoadCounts>('counts')));
    const sum = (key: keyof LoadCounts) => all.reduce((total, c) => total + c[key], 0);
    return {
      ready: sum('ready'),
      failed: sum('failed'),
      jobs: sum('jobs'),
      heartbeats: sum('heartbeats'),
      closed: sum('closed'),
      bytes: sum('bytes'),
      cpuUser: sum('cpuUser'),
      cpuSystem: sum('cpuSystem'),
    };
  }

  /** CPU time of all client children, ms (/proc). */
  cpuMs(): number {
    return this.pids.reduce((sum, pid) => sum + procCpuMs(pid), 0);
  }

  /**
   * Resolves once a heartbeat round has reached every open stream (the heartbeat count grew by the
   * number of streams), so a measured phase can start right after it, 15 s clear of the next one.
   */
  async afterHeartbeat(streams: number, timeoutMs = 20_000): Promise<void> {
    const start = (await this.counts()).heartbeats;
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      await sleep(50);
      if ((await this.counts()).heartbeats - start >= streams) return;
    }
    throw new Error(`no heartbeat round within ${timeoutMs} ms`);
  }

  async latencyStart(): Promise<void> {
    await Promise.all(this.rpcs.map((rpc) => rpc.call('latencyStart')));
  }

  async latencyStop(): Promise<number[]> {
    const parts = await Promise.all(this.rpcs.map((rpc) => rpc.call<Float64Array>('latencyStop')));
    return parts.flatMap((part) => Array.from(part));
  }

  async sampleFrame(): Promise<string | null> {
    for (const rpc of this.rpcs) {
      const frame = await rpc.call<string | null>('sampleFrame');
      if (frame) return frame;
    }
    return null;
  }

  async closeAll(): Promise<void> {
    await Promise.all(this.rpcs.map((rpc) => rpc.call('closeAll')));
  }

  async stop(): Promise<void> {
    await Promise.all(this.rpcs.map((rpc) => stopChild(rpc.child, 3000)));
  }
}

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
