// Benchmark 2: bytes on the wire per client-hour, idle and with one job at 1 Hz, over SSE, delta/ETag
// polling and the naive full-list poll, each client through its own counting proxy to one real server.
// Pieces in bench/bytes-per-hour/; method, counts (BENCH_WIRE_*) and limits: bench/notes/bytes-per-hour.md.
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createWorkerApi } from '@jobtracker/sdk/worker';
import { startServerProcess } from '@jobtracker/test-support/server-process';
import {
  createScenarios,
  type Scenario,
  seedHistory,
  sleep,
  stopClients,
} from './bytes-per-hour/scenarios.js';
import { summarize } from './bytes-per-hour/summary.js';
import { runWindow } from './bytes-per-hour/window.js';
import { report } from './lib/report.js';
import { createTeardown, temporaryFolder } from './lib/teardown.js';

async function main() {
  const startedAt = new Date();
  const secret = randomBytes(32).toString('base64url');
  const workerKey = randomBytes(24).toString('base64url');
  const teardown = createTeardown();
  // The bytes on the wire do not depend on the disk; a file database on tmpfs keeps the seeding (120
  // durable creates, claims and completions) quick on a busy machine.
  const dbDir = temporaryFolder(teardown, 'jobtracker-wire-', existsSync('/dev/shm') ? '/dev/shm' : tmpdir());
  const scenarios: Scenario[] = [];
  const timers: NodeJS.Timeout[] = [];
  try {
    const server = await startServerProcess({
      db: `file:${join(dbDir, 'jobs.db')}`,
      env: { JOBTRACKER_SECRET: secret, JOBTRACKER_WORKER_KEY: workerKey },
    });
    teardown.add(() => server.stop());
    teardown.add(() => Promise.all(scenarios.map((s) => s.proxy.close())));
    teardown.add(async () => {
      for (const timer of timers) clearInterval(timer);
      stopClients(scenarios);
      // nanostores stops a store's connection a second after its last subscriber leaves.
      if (scenarios.length > 0) await sleep(1200);
    });
    const base = `${server.url}/api`;
    const worker = createWorkerApi({ baseUrl: base, workerKey });
    await createScenarios(scenarios, { host: '127.0.0.1', port: server.port }, secret);
    await seedHistory(base, worker, scenarios);
    const window = await runWindow(scenarios, worker, timers);
    const { params, figures, explanation, notes } = await summarize(scenarios, window);
    report({
      bench: 'bytes-per-hour',
      title: 'Bytes per client-hour: SSE, delta/ETag polling and the naive full-list poll',
      startedAt: startedAt.toISOString(),
      durationMs: Date.now() - startedAt.getTime(),
      params,
      figures,
      explanation,
      notes,
    });
  } finally {
    await teardown.run();
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
