import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { JobStore } from '@jobtracker/server';
import { SqliteStore } from '@jobtracker/server';
import { PgStore } from '@jobtracker/server/postgres';
import { openTestSchema } from '@jobtracker/test-support/postgres';
import { LOCAL_MODE, type ModeRules, SHARED_MODE } from './mode.js';

/** A fresh, migrated database for one sequence, and how to get rid of it. */
export interface SequenceDatabase {
  store: JobStore;
  close(): Promise<void>;
}

/** Where the property runs: a fresh database per sequence, and how events reach subscribers there. */
export interface Backend {
  name: string;
  open(onError: (error: unknown) => void): Promise<SequenceDatabase>;
  /** How long events may take to reach subscribers after the call that made them answered. */
  deliveryTimeoutMs: number;
  /** Where the engine's mode on this database may differ from the other's. */
  rules: ModeRules;
  /** Removes whatever the backend kept between sequences. */
  dispose(): void;
}

/**
 * Each sequence gets a fresh SQLite file (WAL, a pool of connections, as in production); on tmpfs when
 * there is one, since fsync costs are not what this test measures. The engine publishes before it
 * answers, so events are waited for not at all.
 */
export function sqliteBackend(): Backend {
  let dir: string | null = null;
  let files = 0;
  return {
    name: 'SQLite',
    deliveryTimeoutMs: 0,
    rules: LOCAL_MODE,
    async open() {
      dir ??= mkdtempSync(join(existsSync('/dev/shm') ? '/dev/shm' : tmpdir(), 'jobtracker-state-machine-'));
      const file = join(dir, `run-${files++}.db`);
      const store = new SqliteStore({ url: `file:${file}` });
      await store.migrate();
      return {
        store,
        async close() {
          await store.close();
          for (const suffix of ['', '-wal', '-shm', '-journal']) rmSync(`${file}${suffix}`, { force: true });
        },
      };
    },
    dispose() {
      if (dir) rmSync(dir, { recursive: true, force: true });
    },
  };
}

/**
 * Each sequence gets a fresh schema of the test PostgreSQL database, the engine in shared mode over it:
 * events reach subscribers through the database's change feed, so they are waited for (a bounded
 * time; the checks after it say what never came).
 */
export function postgresBackend(): Backend {
  return {
    name: 'PostgreSQL',
    deliveryTimeoutMs: 5_000,
    rules: SHARED_MODE,
    async open(onError) {
      const schema = await openTestSchema();
      const store = new PgStore({ url: schema.url, schema: schema.schema, onError });
      try {
        await store.migrate();
      } catch (error) {
        await store.close();
        await schema.drop();
        throw error;
      }
      return {
        store,
        async close() {
          await store.close();
          await schema.drop();
        },
      };
    },
    dispose() {},
  };
}
