import { atom, computed, type ReadableAtom } from 'nanostores';
import type { Job } from '../wire.js';
import { isActiveJob, type JobChange, type JobMap } from './jobs.js';

/**
 * Jobs to take in: a snapshot replaces every job held, other jobs are merged by version. A `cursor`
 * says where in the server's feed they come from; without one (the answer to an action) it stays.
 */
export interface JobUpdate {
  kind: 'snapshot' | 'jobs';
  jobs: readonly Job[];
  cursor?: string | null;
}

type JobStore = ReadableAtom<Job | undefined>;

/** Newest first by the time `at` reads (ISO strings compare as text). */
const newestBy =
  (at: (job: Job) => string) =>
  (a: Job, b: Job): number =>
    at(a) < at(b) ? 1 : at(a) > at(b) ? -1 : 0;

/** The jobs a client holds, as nanostores, and the cursor of the server's feed they are current to. */
export function createJobStores() {
  let cursor: string | null = null;
  const $jobs = atom<JobMap>({});
  const active = (jobs: JobMap) =>
    Object.values(jobs)
      .filter(isActiveJob)
      .sort(newestBy((job) => job.createdAt));
  const recent = (jobs: JobMap) =>
    Object.values(jobs)
      .filter((job) => !isActiveJob(job))
      .sort(newestBy((job) => job.completedAt ?? job.updatedAt));
  const $active = computed($jobs, active);
  const $recent = computed($jobs, recent);
  // The client's own reads take the atom's value: `get()` on a store nobody listens to mounts it for a
  // moment, and mounting $jobs opens the connection (e.g. a cache save after the page's elements left).
  const held = () => $jobs.value as JobMap;
  /** One store per job id, and per type and scope (keys with a NUL, which no id has): asking again returns the same store. */
  const stores = new Map<string, JobStore>();
  const storeFor = (key: string, make: () => JobStore) => {
    let store = stores.get(key);
    if (!store) {
      store = make();
      stores.set(key, store);
    }
    return store;
  };

  return {
    $jobs,
    $active,
    $recent,
    get cursor() {
      return cursor;
    },
    list: () => Object.values(held()),
    /** What the local cache keeps: the active jobs, then the `recentKept` most recently finished. */
    saved: (recentKept: number) => [...active(held()), ...recent(held()).slice(0, recentKept)],
    /**
     * Takes an update in; returns the jobs it changed. Jobs are merged by version; a snapshot replaces
     * everything held (the server's word wins even over a higher local version).
     */
    take(update: JobUpdate): JobChange[] {
      const before = held();
      const snapshot = update.kind === 'snapshot';
      const next: Record<string, Job> = snapshot ? {} : { ...before };
      const changes: JobChange[] = [];
      for (const job of update.jobs) {
        const was = (snapshot ? before : next)[job.id];
        if (snapshot || !(was && was.version >= job.version)) {
          next[job.id] = job;
          if (was?.version !== job.version || was.status !== job.status) changes.push([was, job]);
        }
      }
      if (update.cursor !== undefined) cursor = update.cursor;
      if (snapshot || changes.length) $jobs.set(next);
      return changes;
    },
    jobStore: (id: string) => storeFor(id, () => computed($jobs, (jobs) => jobs[id])),
    activeFor: (type: string, scope: string | null = null) =>
      storeFor(`${type}\u0000${scope ?? ''}`, () =>
        computed($active, (jobs) => jobs.find((job) => job.type === type && job.scope === (scope ?? null))),
      ),
    clear() {
      cursor = null;
      $jobs.set({});
    },
  };
}

export type JobStores = ReturnType<typeof createJobStores>;
