/**
 * Drives `jobs` jobs through the worker API at `rateHz` progress reports each, on staggered timers, as
 * a real worker would: it claims them once, then `run()` / `pause()` switch the reports on and off.
 */
export interface WorkerDriver {
  run(): void;
  pause(): void;
  /** Progress reports the server answered with an error (should stay 0). */
  readonly errors: number;
  readonly sent: number;
  /** Ticks skipped because the job's previous report was still unanswered. */
  readonly skipped: number;
}

const LEASE_MS = 3_600_000;

interface Claimed {
  id: string;
  leaseToken: string;
  progress: number;
  count: number;
  inFlight: boolean;
}

async function post(url: string, body: unknown): Promise<Response> {
  return fetch(url, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify(body),
  });
}

/** Creates `jobs` jobs of `type` as the page's user, claims them all, and returns the driver. */
export async function startWorker(
  base: string,
  options: { jobs: number; rateHz: number; type: string; start: (job: number) => number; step: number },
): Promise<WorkerDriver> {
  for (let job = 0; job < options.jobs; job++) {
    const created = await post(`${base}/api/jobs`, {
      type: options.type,
      scope: `bench-${job}`,
      title: `Program ${job + 1}`,
    });
    if (!created.ok) throw new Error(`main-thread: creating a job answered ${created.status}`);
  }
  const claimed: Claimed[] = [];
  while (claimed.length < options.jobs) {
    const answer = await post(`${base}/api/worker/claim`, {
      types: [options.type],
      workerId: 'bench-main-thread',
      leaseMs: LEASE_MS,
      waitMs: 1000,
    });
    if (answer.status !== 200) throw new Error(`main-thread: claiming a job answered ${answer.status}`);
    const { job, leaseToken } = (await answer.json()) as { job: { id: string }; leaseToken: string };
    claimed.push({
      id: job.id,
      leaseToken,
      progress: options.start(claimed.length),
      count: 0,
      inFlight: false,
    });
  }
  const period = 1000 / options.rateHz;
  let timers: NodeJS.Timeout[] = [];
  let errors = 0;
  let sent = 0;
  let skipped = 0;
  // One report per job at a time, as a worker awaiting its last report would: out of order they could go down.
  const report = async (job: Claimed) => {
    if (job.inFlight) {
      skipped++;
      return;
    }
    job.inFlight = true;
    job.count++;
    job.progress = Math.min(99, job.progress + options.step);
    sent++;
    const answer = await post(`${base}/api/worker/jobs/${job.id}/progress`, {
      leaseToken: job.leaseToken,
      progress: job.progress,
      message: `Step ${job.count}…`,
      // Each report sets the lease anew (15 s without leaseMs): it must outlast the other page's windows.
      leaseMs: LEASE_MS,
    }).catch(() => null);
    if (!answer?.ok) {
      errors++;
      const detail = await answer?.text().catch(() => '');
      if (errors <= 3)
        console.warn(
          `main-thread: a progress report answered ${answer?.status ?? 'nothing'} ${detail ?? ''}`,
        );
    }
    await answer?.arrayBuffer().catch(() => {});
    job.inFlight = false;
  };
  await Promise.all(claimed.map(report));
  const pause = () => {
    for (const timer of timers) {
      clearTimeout(timer);
      clearInterval(timer);
    }
    timers = [];
  };
  return {
    run() {
      pause();
      timers = claimed.map((job, index) =>
        setTimeout(
          () => {
            timers[index] = setInterval(() => void report(job), period);
          },
          (period * index) / claimed.length,
        ),
      );
    },
    pause,
    get errors() {
      return errors;
    },
    get sent() {
      return sent;
    },
    get skipped() {
      return skipped;
    },
  };
}
