/** Bytes-per-hour benchmark: the measured window, with the worker, the SDK clients and the naive clients together. */
import { gzipSync } from 'node:zlib';
import { createJobClient, type Job, type JobListResponse } from '@jobtracker/sdk';
import type { createWorkerApi } from '@jobtracker/sdk/worker';
import { roundTo } from '../lib/format.js';
import {
  JOBS_PER_USER,
  NAIVE_EVERY_MS,
  type Scenario,
  SECTIONS,
  sleep,
  stopClients,
  WARMUP_S,
  WINDOW_S,
} from './scenarios.js';

/** What the window measured besides each scenario's counters. */
export interface WindowResult {
  seconds: number;
  ticksInWindow: number;
  progressCalls: number;
}

/**
 * Starts every client and the worker's 1 Hz progress, waits out the warm-up, takes each scenario's counters
 * at the start and the end of the window, then stops the clients. Timers go into `timers` for the teardown.
 */
export async function runWindow(
  scenarios: Scenario[],
  worker: ReturnType<typeof createWorkerApi>,
  timers: NodeJS.Timeout[],
): Promise<WindowResult> {
  const seen = (s: Scenario, job: Job | undefined) => {
    if (!job || job.version === s.lastJob?.version) return;
    s.updates++;
    s.lastJob = job;
    if (s.design === 'sse' && s.frames && s.frames.length < 600) {
      s.frames.push(`id: ${Date.now() * 1000}\nevent: job\ndata: ${JSON.stringify(job)}\n\n`);
    }
  };
  const markSetup = (s: Scenario) => {
    s.setup ??= s.proxy.counters();
  };

  for (const s of scenarios) if (s.design === 'sse' && s.active) s.frames = [];

  // ---- the window opens: the worker, the SDK clients and the naive clients start together ----
  const openedAt = Date.now();
  const actives = scenarios.filter((s) => s.running);
  const totalTicks = Math.ceil(WARMUP_S + WINDOW_S) + 5;
  let tick = 0;
  let progressCalls = 0;
  const progressErrors: string[] = [];
  timers.push(
    setInterval(() => {
      tick++;
      const section = Math.min(SECTIONS, 1 + Math.floor((tick * SECTIONS) / totalTicks));
      const progress = roundTo(2 + (Math.min(tick, totalTicks) / totalTicks) * 95, 1);
      const message = `Generating section ${section} of ${SECTIONS}`;
      for (const s of actives) {
        const running = s.running as { id: string; leaseToken: string };
        worker.progress(running.id, running.leaseToken, { progress, message }).then(
          () => progressCalls++,
          (error: unknown) => progressErrors.push(String(error)),
        );
      }
    }, 1000),
  );

  for (const s of scenarios) {
    if (s.design === 'naive') {
      const fetchList = async () => {
        try {
          const response = await fetch(`${s.proxy.url}/api/jobs?limit=${JOBS_PER_USER}`, {
            headers: { Authorization: `Bearer ${s.token}` },
          });
          const text = await response.text();
          if (!response.ok) throw new Error(`status ${response.status}`);
          const body = JSON.parse(text) as JobListResponse;
          s.naiveBodies ??= [];
          s.naiveBodies.push({ raw: Buffer.byteLength(text), gzip: gzipSync(text).length });
          markSetup(s);
          if (body.jobs.length !== JOBS_PER_USER) throw new Error(`listed ${body.jobs.length} jobs`);
          const running = s.running && body.jobs.find((job) => job.id === s.running?.id);
          if (running) seen(s, running);
        } catch (error) {
          s.errors.push(String(error));
        }
      };
      void fetchList();
      const timer = setInterval(fetchList, NAIVE_EVERY_MS);
      timers.push(timer);
      s.stop = () => clearInterval(timer);
      continue;
    }
    const client = createJobClient({
      baseUrl: `${s.proxy.url}/api`,
      token: s.token,
      transport: s.design,
      ...(s.pollActiveMs ? { pollActiveMs: s.pollActiveMs } : {}),
      storage: null,
      shareTabs: false,
    });
    const offJobs = client.$jobs.subscribe((jobs) => {
      if (s.running) seen(s, jobs[s.running.id]);
    });
    const offConnection = client.$connection.subscribe((status) => {
      if (status.state === 'live' || status.state === 'polling') markSetup(s);
      const state = status.error ? `${status.state}(${status.error.code})` : status.state;
      if (s.states.at(-1) !== state) s.states.push(state);
    });
    s.stop = () => {
      offJobs();
      offConnection();
    };
  }

  await sleep(openedAt + WARMUP_S * 1000 - Date.now());
  const missing = scenarios.filter((s) => !s.setup).map((s) => s.key);
  if (missing.length > 0) throw new Error(`not in step after the warm-up: ${missing.join(', ')}`);
  const warmAt = Date.now();
  for (const s of scenarios) {
    s.warm = s.proxy.counters();
    s.updatesWarm = s.updates;
  }
  const ticksWarm = tick;
  await sleep(warmAt + WINDOW_S * 1000 - Date.now());
  const endAt = Date.now();
  for (const s of scenarios) {
    s.end = s.proxy.counters();
    s.updatesEnd = s.updates;
  }
  const ticksInWindow = tick - ticksWarm;
  const seconds = (endAt - warmAt) / 1000;

  for (const timer of timers.splice(0)) clearInterval(timer);
  stopClients(scenarios);
  if (progressErrors.length > 0) throw new Error(`progress failed: ${progressErrors[0]}`);
  for (const s of scenarios) {
    if (s.errors.length > 0) throw new Error(`${s.key}: ${s.errors[0]}`);
  }
  return { seconds, ticksInWindow, progressCalls };
}
