/**
 * Parent-side pieces shared by the SSE benchmarks (connections.ts, latency.ts, scale-out.ts): the server
 * children (jobtracker's CLI with the probe preloaded, and the bare node:http baseline) and /proc readings.
 * It also re-exports the SSE load children (sse-clients.ts) and the HTTP load drivers (http-load.ts).
 */

import { execFileSync, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { STREAM_HEARTBEAT_MS } from '@jobtracker/sdk/wire';
import { serverCli } from '@jobtracker/test-support/server-process';
import { stopChild, tempDirs, track } from './children.js';
import type { ProbeStats, ProfileSummary } from './sse-probe.js';
import { RpcChild } from './sse-rpc.js';

const here = (file: string) => fileURLToPath(new URL(file, import.meta.url));
const CLI = serverCli();
const PROBE = here('./sse-probe.ts');
const BARE = here('./sse-bare-server.ts');

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
    BARE_HEARTBEAT_MS: String(STREAM_HEARTBEAT_MS),
  });
  return { ...server, secret: randomBytes(24).toString('base64url') };
}

export {
  atRate,
  closedLoop,
  type HttpAnswer,
  HttpClient,
  mean,
  type RateResult,
  runningJobs,
} from './http-load.js';
export { LoadClients } from './sse-clients.js';

/**
 * Ends jobtracker's turn (`stopOurs`, the clients' streams closed) and starts the bare server writing the
 * job frame jobtracker delivered, so both write frames of the same size.
 */
export async function handOverToBare(
  clients: import('./sse-clients.js').LoadClients,
  stopOurs: () => Promise<void>,
): Promise<{ bare: ServerChild & { secret: string }; sample: string }> {
  const sample = await clients.sampleFrame();
  if (!sample) throw new Error('no job frame was delivered by jobtracker');
  await stopOurs();
  await clients.closeAll();
  return { bare: await startBareServer(sample), sample };
}
