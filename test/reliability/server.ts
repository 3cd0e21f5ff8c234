import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type RunningServer, type ServerOptions, startServer } from '@jobtracker/server';

export const SECRET = 'reliability-secret-with-enough-entropy-0123';
export const WORKER_KEY = 'reliability-worker-key';

/** A real server on a free loopback port, with a temporary SQLite file that `close()` removes. */
export async function startReliabilityServer(options: ServerOptions = {}): Promise<RunningServer> {
  const dir = mkdtempSync(join(tmpdir(), 'jobtracker-reliability-'));
  const server = await startServer({
    port: 0,
    db: `file:${join(dir, 'jobs.db')}`,
    secret: SECRET,
    workerKey: WORKER_KEY,
    onError: () => {},
    ...options,
  });
  return {
    ...server,
    async close() {
      await server.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
