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

/** Ids of jobs seen active and not yet announced (`watch`), and of jobs announced (`done`). */
interface WatchList {
  watch: string[];
  done: string[];
}

const WATCH_LIMIT = 500;
const HIDDEN_TAB_DELAY_MS = 1500;

/**
 * Announces each finished job once per browser, in one tab: the browser keeps the ids of jobs it saw
 * active (the watch list, in storage), and a tab that has listeners claims a finished job by moving
 * its id from that list to the announced one under a Web Lock. Visible tabs claim at once, hidden ones a moment later, so
 * the announcement lands where the user is looking. A job that finished while no tab was open is
 * announced when a page next learns of it.
 */
export function createAnnouncer(options: AnnouncerOptions) {
  const key = `${options.key}:watch`;
  let memory: WatchList = { watch: [], done: [] };
  const read = (): WatchList => {
    if (!options.storage) return memory;
    const saved = readJson<Partial<WatchList>>(options.storage, key);
    return { watch: saved?.watch ?? [], done: saved?.done ?? [] };
  };
  const write = (list: WatchList) => {
    const kept = { watch: list.watch.slice(-WATCH_LIMIT), done: list.done.slice(-WATCH_LIMIT) };
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
          const list = read();
          if (!list.watch.includes(job.id) || list.done.includes(job.id)) return false;
          write({ watch: list.watch.filter((id) => id !== job.id), done: [...list.done, job.id] });
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
      const list = read();
      // A replay passes through old states: a job already announced is never watched again.
      const fresh = added.filter((id) => !list.watch.includes(id) && !list.done.includes(id));
      if (fresh.length > 0) write({ watch: [...list.watch, ...fresh], done: list.done });
    },
    /** Claims every finished job still on the watch list, e.g. when a listener arrives. */
    sweep(jobs: readonly Job[]) {
      const { watch } = read();
      for (const job of jobs) if (!isActiveJob(job) && watch.includes(job.id)) claim(job);
    },
    clear() {
      options.storage?.removeItem(key);
      memory = { watch: [], done: [] };
    },
  };
}
