import type { StoredEvent } from '../storage/store.js';

/**
 * The events one log write keeps (a flush, a progress batch): of each run of a job's progress reports,
 * each on top of the one before, only the last, which then stands for the whole run (`progressFrom` is
 * the version before the run). Every other event stays, and the order and cursors do not change, so the
 * log still rises without a hole and ends each job at its latest version: a client replaying from any
 * cursor reaches the same jobs, one row per job per write instead of one per report.
 *
 * `published`: the dropped reports went out already (one process publishes before it commits), so a
 * client may hold one of them; the kept event then records in `coalescedFrom` where the run began.
 * The events given are left as they are (published events are shared); kept ones that change are copies.
 */
export function coalesceProgress(events: readonly StoredEvent[], published: boolean): StoredEvent[] {
  const kept: (StoredEvent | null)[] = [];
  const lastOfJob = new Map<string, number>();
  for (const event of events) {
    const at = lastOfJob.get(event.jobId);
    const before = at === undefined ? null : kept[at];
    lastOfJob.set(event.jobId, kept.length);
    if (
      event.progressFrom === null ||
      !before ||
      before.progressFrom === null ||
      before.version !== event.progressFrom
    ) {
      kept.push(event);
      continue;
    }
    kept[at as number] = null;
    kept.push({
      ...event,
      progressFrom: before.progressFrom,
      coalescedFrom: before.coalescedFrom ?? (published ? before.cursor : null),
    });
  }
  return kept.filter((event): event is StoredEvent => event !== null);
}
