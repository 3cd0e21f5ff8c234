/** SSE clients spread over a few child processes (sse-load.ts), driven together from the bench process. */

import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { STREAM_HEARTBEAT_MS } from '@jobtracker/sdk/wire';
import { stopChild, track } from './children.js';
import { procCpuMs, sleep } from './sse-harness.js';
import type { LoadCounts, OpenArgs, OpenResult } from './sse-load.js';
import { RpcChild } from './sse-rpc.js';

const LOAD = fileURLToPath(new URL('./sse-load.ts', import.meta.url));

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
   * number of streams), so a measured phase can start right after it, a heartbeat period clear of the next.
   * With `port`, only the streams of the server on that port count.
   */
  async afterHeartbeat(
    streams: number,
    timeoutMs = STREAM_HEARTBEAT_MS + 5000,
    port?: number,
  ): Promise<void> {
    const count = () =>
      port === undefined ? this.counts().then((c) => c.heartbeats) : this.heartbeatsOf(port);
    const start = await count();
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      await sleep(50);
      if ((await count()) - start >= streams) return;
    }
    throw new Error(`no heartbeat round within ${timeoutMs} ms`);
  }

  /** Heartbeats the streams of the server on `port` received so far. */
  async heartbeatsOf(port: number): Promise<number> {
    const all = await Promise.all(this.rpcs.map((rpc) => rpc.call<number>('heartbeatsOf', { port })));
    return all.reduce((sum, n) => sum + n, 0);
  }

  /** Closes the streams to the server on `port`, leaving the others open. */
  async closePort(port: number): Promise<void> {
    await Promise.all(this.rpcs.map((rpc) => rpc.call('closePort', { port })));
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
