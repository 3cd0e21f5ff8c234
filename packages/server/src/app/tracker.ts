import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { registerDemoJobs } from '../demo/demo-jobs.js';
import { JobEngine, type JobEngineOptions } from '../engine/engine.js';
import { createRunner, type JobRunner, type RunnerOptions } from '../runner/runner.js';
import { SqliteStore } from '../storage/sqlite/sqlite-store.js';
import type { JobStore } from '../storage/store.js';
import { type AppOptions, createJobApi, type JobApp } from './app.js';
import { assertAuthConfigured, JobTrackerConfigError } from './dev-mode.js';

export const DEFAULT_DB = 'file:./data/jobtracker.db';

export interface JobTrackerOptions extends Omit<AppOptions, 'engine'> {
  /**
   * `file:path.db` (default `file:./data/jobtracker.db`), `:memory:`, or `postgres://user@host/db` for
   * several instances sharing one database (`?schema=name` keeps the tables in that schema).
   */
  db?: string;
  /** Engine tuning: progress flush period, leases, retention. */
  engine?: Omit<JobEngineOptions, 'store'>;
  runner?: RunnerOptions;
  /** Register the demo job types (`demo.generate`). */
  demo?: boolean | { defaultDurationMs?: number };
}

/** A running job API: the Hono app, its engine, the in-process runner, and how to close them. */
export interface JobTracker extends JobApp {
  engine: JobEngine;
  runner: JobRunner;
  store: JobStore;
  close(): Promise<void>;
}

/**
 * Opens the store a `JOBTRACKER_DB` URL names, creating a file database's folder. A `postgres://` URL
 * loads the optional peer dependency `pg`, and only then.
 */
export async function openStore(url: string, onError?: (error: unknown) => void): Promise<JobStore> {
  if (/^postgres(ql)?:\/\//i.test(url)) {
    const { PgStore } = await loadPostgres();
    const parsed = new URL(url);
    const schema = parsed.searchParams.get('schema') ?? undefined;
    parsed.searchParams.delete('schema');
    return new PgStore({ url: parsed.toString(), schema, onError });
  }
  if (url.startsWith('file:') && !url.startsWith('file::memory:')) {
    const path = url.slice('file:'.length).split('?')[0] ?? '';
    if (path) mkdirSync(dirname(path), { recursive: true });
  } else if (url !== ':memory:' && !url.startsWith('file::memory:')) {
    throw new Error(
      `Unsupported database URL "${redactDbUrl(url)}": use file:path.db, :memory: or postgres://….`,
    );
  }
  return new SqliteStore({ url });
}

async function loadPostgres() {
  try {
    await import('pg');
  } catch (error) {
    if ((error as { code?: unknown }).code !== 'ERR_MODULE_NOT_FOUND') throw error;
    throw new JobTrackerConfigError(
      'A postgres:// database needs the package "pg", an optional peer dependency: npm install pg',
    );
  }
  return import('../storage/pg/pg-store.js');
}

/** A database URL fit for logs: without its password. */
export function redactDbUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (!parsed.password) return url;
    parsed.password = '***';
    return parsed.toString();
  } catch {
    return url;
  }
}

/**
 * Opens the database (applying migrations), starts the engine and the runner, and builds the app.
 * Throws `JobTrackerConfigError` when neither `secret` nor `authenticate` is given, unless `devMode: true`.
 */
export async function createJobTracker(options: JobTrackerOptions = {}): Promise<JobTracker> {
  assertAuthConfigured(options);
  const store = await openStore(options.db ?? DEFAULT_DB, options.onError ?? options.engine?.onError);
  try {
    await store.migrate();
    const engine = new JobEngine({
      ...options.engine,
      store,
      onError: options.onError ?? options.engine?.onError,
    });
    await engine.start();
    const runner = createRunner(engine, { onError: options.onError, ...options.runner });
    if (options.demo) registerDemoJobs(runner, typeof options.demo === 'object' ? options.demo : {});
    runner.start();
    const app = createJobApi({ ...options, engine });
    return {
      ...app,
      engine,
      runner,
      store,
      async close() {
        app.streams.closeAll();
        await runner.stop();
        await engine.stop();
        await store.close();
      },
    };
  } catch (error) {
    await store.close();
    throw error;
  }
}
