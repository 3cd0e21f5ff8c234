import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const cli = fileURLToPath(new URL('../../../server/src/cli.ts', import.meta.url));

export interface ServerProcess {
  url: string;
  port: number;
  /** The file database, kept across restarts. */
  db: string;
  child: ChildProcess;
  output(): string;
  /** SIGKILL: no flush, no goodbye. */
  kill(): Promise<void>;
  /** SIGTERM and wait for a clean exit. */
  stop(): Promise<void>;
  /**
   * Starts the server again on the same port and database; `changes` replaces its arguments or adds to
   * its environment (e.g. a rotated `JOBTRACKER_SECRET`).
   */
  restart(changes?: Pick<ServerProcessOptions, 'args' | 'env'>): Promise<ServerProcess>;
}

export interface ServerProcessOptions {
  args?: string[];
  env?: Record<string, string>;
  port?: number;
  db?: string;
}

/** Runs the real jobtracker server CLI (from source, through tsx) on a free loopback port and a temporary file database. */
export async function startServerProcess(options: ServerProcessOptions = {}): Promise<ServerProcess> {
  const dir = options.db ? null : mkdtempSync(join(tmpdir(), 'jobtracker-sdk-'));
  const db = options.db ?? `file:${join(dir as string, 'jobs.db')}`;
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', cli, '--port', String(options.port ?? 0), '--db', db, ...(options.args ?? [])],
    {
      env: { ...process.env, JOBTRACKER_SECRET: '', JOBTRACKER_WORKER_KEY: '', ...options.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let output = '';
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const url = await new Promise<string>((resolve, reject) => {
    child.stdout?.on('data', (chunk) => {
      output += chunk;
      const match = /listening on (http:\/\/\S+)/.exec(output);
      if (match?.[1]) resolve(match[1]);
    });
    child.stderr?.on('data', (chunk) => {
      output += chunk;
    });
    child.once('exit', (code) => reject(new Error(`server exited with ${code}: ${output}`)));
  });
  const port = Number(new URL(url).port);
  const cleanup = () => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  };
  const server: ServerProcess = {
    url,
    port,
    db,
    child,
    output: () => output,
    async kill() {
      child.kill('SIGKILL');
      await exited;
    },
    async stop() {
      child.kill('SIGTERM');
      await exited;
    },
    async restart(changes = {}) {
      return startServerProcess({
        ...options,
        args: changes.args ?? options.args,
        env: { ...options.env, ...changes.env },
        port,
        db,
      });
    },
  };
  process.once('exit', () => {
    child.kill('SIGKILL');
    cleanup();
  });
  return server;
}
