import { type KeyValueStorage, readJson, writeJson } from '../persist/storage.js';
import type { JobChange } from '../store/jobs.js';
import { isActiveJob } from '../store/jobs.js';
import type { Job } from '../wire.js';

export type TerminalEvent = 'completed' | 'failed' | 'cancelled';

export interface AnnouncerOptions {
  storage: KeyValueStorage | null;
  key: string;
  hasListeners(event: TerminalEvent): boolean;
  announce(event: TerminalEvent, job: Job): void;
  hidden(): boolean;
}

const WATCH_LIMIT = 500;
const HIDDEN_TAB_DELAY_MS = 1500;

/**
 * Announces each finished job once per browser, in one tab: the browser keeps the ids of jobs it saw
 * active (the watch list, in storage), and a tab that has listeners claims a finished job by taking
 * its id off that list under a Web Lock. Visible tabs claim at once, hidden ones a moment later, so
 * the announcement lands where the user is looking. A job that finished while no tab was open is
 * announced when a page next learns of it.
 */
export function createAnnouncer(options: AnnouncerOptions) {
  const key = `${options.key}:watch`;
  let memory: string[] = [];
  const read = () => (options.storage ? (readJson<string[]>(options.storage, key) ?? []) : memory);
  const write = (ids: string[]) => {
    const kept = ids.slice(-WATCH_LIMIT);
    if (options.storage) writeJson(options.storage, key, kept);
    else memory = kept;
  };
  const exclusive = <T>(work: () => T): Promise<T> => {
    const locks = typeof navigator === 'undefined' ? undefined : navigator.locks;
    return locks?.request ? locks.request(`${key}:lock`, async () => work()) : Promise.resolve(work());
  };

  function claim(job: Job) {
    const event = job.status as TerminalEvent;
    if (!options.hasListeners(event)) return;
    setTimeout(
      () => {
        exclusive(() => {
          const ids = read();
          const at = ids.indexOf(job.id);
          if (at < 0) return false;
          ids.splice(at, 1);
          write(ids);
          return true;
        }).then(
          (won) => won && options.announce(event, job),
          () => {},
        );
      },
      options.hidden() ? HIDDEN_TAB_DELAY_MS : 0,
    );
  }

  return {
    /** Watches jobs that became active; claims those that finished. */
    observe(changes: readonly JobChange[]) {
      const added: string[] = [];
      for (const [, job] of changes) {
        if (isActiveJob(job)) added.push(job.id);
        else claim(job);
      }
      if (added.length === 0) return;
      const ids = read();
      const fresh = added.filter((id) => !ids.includes(id));
      if (fresh.length > 0) write([...ids, ...fresh]);
    },
    /** Claims every finished job still on the watch list, e.g. when a listener arrives. */
    sweep(jobs: readonly Job[]) {
      const ids = read();
      for (const job of jobs) if (!isActiveJob(job) && ids.includes(job.id)) claim(job);
    },
    clear() {
      options.storage?.removeItem(key);
      memory = [];
    },
  };
}
