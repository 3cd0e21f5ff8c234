import type { Job } from '@jobtracker/sdk';

interface Point {
  at: number;
  progress: number;
}

/**
 * The recent pace of each running job's current attempt, from the progress an element saw and when it
 * saw it. What is left is estimated from about the last 15 s of the attempt rather than from its whole
 * run, so a job that sped up (or stalled) is judged by what it does now; a job started again (a new
 * attempt, e.g. after its server restarted, has a new `startedAt`) counts from that start.
 */
export class ProgressPace {
  readonly #jobs = new Map<string, { started: number; points: Point[] }>();

  /** The job's progress in percent per millisecond over the recent past of its current attempt, as of `now`; null when unknown. */
  rate(job: Job, now: number): number | null {
    const started = Date.parse(job.startedAt as string);
    const progress = job.progress;
    if (progress === null || !started) return null;
    let seen = this.#jobs.get(job.id);
    if (seen?.started !== started) {
      this.#jobs.delete(job.id);
      // Jobs seen long ago are forgotten first.
      if (this.#jobs.size > 50) this.#jobs.delete(this.#jobs.keys().next().value as string);
      seen = { started, points: [{ at: started, progress: 0 }] };
      this.#jobs.set(job.id, seen);
    }
    const { points } = seen;
    const last = points.at(-1) as Point;
    if (progress > last.progress) points.push({ at: now, progress });
    // From the oldest point of the last 15 s; when only the latest is that recent (a stall), from the
    // one before it, so the time without progress slows the pace down.
    const recent = points.findIndex((point) => point.at >= now - 15_000);
    points.splice(0, Math.max(0, Math.min(recent < 0 ? points.length : recent, points.length - 2)));
    const from = points[0] as Point;
    return progress > from.progress && now > from.at ? (progress - from.progress) / (now - from.at) : null;
  }
}
