import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * The server's CLI, found beside the entry point `@jobtracker/server` resolves to: its source under the
 * `jobtracker-source` condition (how the tests run), else its build.
 */
export function serverCli(): string {
  const entry = fileURLToPath(import.meta.resolve('@jobtracker/server'));
  return join(dirname(entry), entry.endsWith('.ts') ? 'cli.ts' : 'cli.js');
}

const cli = serverCli();

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

/** Runs the real jobtracker server CLI (through tsx) on a free loopback port and a temporary file database. */
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
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const { output, ...listening } = readListening(child, 'server');
  const url = await listening.url;
  const port = Number(new URL(url).port);
  const cleanup = () => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  };
  const server: ServerProcess = {
    url,
    port,
    db,
    child,
    output,
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

/**
 * Reads a server process's output: `url` resolves with the address it prints once it listens
 * (`listening on http://…`) and rejects if it exits first; `output()` is all it printed so far.
 */
export function readListening(child: ChildProcess, name: string): { url: Promise<string>; output(): string } {
  let output = '';
  const url = new Promise<string>((resolve, reject) => {
    child.stdout?.on('data', (chunk) => {
      output += chunk;
      const match = /listening on (http:\/\/\S+)/.exec(output);
      if (match?.[1]) resolve(match[1]);
    });
    child.stderr?.on('data', (chunk) => {
      output += chunk;
    });
    child.once('exit', (code) => reject(new Error(`${name} exited with ${code}: ${output}`)));
  });
  return { url, output: () => output };
}
