import { listenToPage, pageHidden } from '../page/page-events.js';
import { type KeyValueStorage, readJson, writeJson } from '../persist/storage.js';
import type { JobChange } from '../store/jobs.js';
import { isActiveJob } from '../store/jobs.js';
import type { Job, TerminalStatus } from '../wire.js';

/** The events announced once per browser: one per terminal status. */
export type TerminalEvent = TerminalStatus;

export interface AnnouncerOptions {
  storage: KeyValueStorage | null;
  /** The user's key in storage; null while the user is unknown (nothing is kept then). */
  key(): string | null;
  /** Whom to announce to: the client's listeners of each event. */
  events: { has(event: TerminalEvent): boolean; emit(event: TerminalEvent, job: Job): void };
}

/**
 * Ids of jobs seen active and not yet seen announced (`watch`), of jobs announced and seen (`done`),
 * and the time a tab claimed a watched job to show it (`claims`).
 */
interface WatchList {
  watch: string[];
  done: string[];
  claims: Record<string, number>;
}

const WATCH_LIMIT = 500;
const HIDDEN_TAB_DELAY_MS = 1500;
/** How long an announcement stays on a visible page before it counts as seen. */
export const SEEN_MS = 1200;
/** A claim of a tab that vanished (crashed, or hidden past this) no longer stops another tab. */
const CLAIM_MS = 4000;

/**
 * Announces each finished job once per browser, in one tab, and counts it announced only once a
 * person could have seen it. The browser keeps the ids of jobs it saw active (the watch list, in
 * storage). A tab with listeners claims a finished job under a Web Lock and announces it; it is done
 * once that page stayed visible for `SEEN_MS` (or on `acknowledge`). A page that hides or unloads
 * sooner gives its claim back, and the next page (or this one, shown again) announces the job again.
 * Visible tabs claim at once, hidden ones a moment later, so the announcement lands where the user
 * is looking. A job that finished while no tab was open is announced when a page next learns of it.
 */
export function createAnnouncer(options: AnnouncerOptions) {
  let memory = {};
  const storageKey = () => options.storage && options.key() && `${options.key()}:watch`;
  const read = (): WatchList => {
    const key = storageKey();
    return { watch: [], done: [], claims: {}, ...(key ? readJson(options.storage, key) : memory) };
  };
  const write = (list: WatchList) => {
    list.watch = list.watch.slice(-WATCH_LIMIT);
    list.done = list.done.slice(-WATCH_LIMIT);
    const key = storageKey();
    if (key) writeJson(options.storage, key, list);
    else memory = list;
  };

  /** This tab's announcements not seen yet, each with the timer that will mark it seen. */
  const shown = new Map<string, ReturnType<typeof setTimeout> | undefined>();
  /** Ends this tab's announcements of `ids`: seen (done for good), or given back to the next page. */
  const settle = (ids: string[], seen: boolean) => {
    const list = read();
    for (const id of ids) {
      clearTimeout(shown.get(id));
      shown.delete(id);
      delete list.claims[id];
      if (seen) {
        list.watch = list.watch.filter((watched) => watched !== id);
        list.done.push(id);
      }
    }
    write(list);
  };
  const seenAfterVisible = (id: string) => {
    clearTimeout(shown.get(id));
    shown.set(id, pageHidden() ? undefined : setTimeout(() => settle([id], true), SEEN_MS));
  };
  const release = () => shown.size > 0 && settle([...shown.keys()], false);
  listenToPage({
    leave: release,
    hidden: release,
    visible: () => {
      for (const id of shown.keys()) seenAfterVisible(id);
    },
  });

  function claim(job: Job) {
    const event = job.status as TerminalEvent;
    if (!options.events.has(event) || shown.has(job.id)) return;
    const work = async () => {
      const list = read();
      const at = Date.now();
      if (shown.has(job.id) || !list.watch.includes(job.id) || at - (list.claims[job.id] ?? 0) < CLAIM_MS)
        return;
      list.claims[job.id] = at;
      write(list);
      seenAfterVisible(job.id);
      options.events.emit(event, job);
    };
    setTimeout(
      () => {
        const locks = globalThis.navigator?.locks;
        (locks?.request ? locks.request(`${storageKey()}:lock`, work) : work()).catch(() => {});
      },
      pageHidden() ? HIDDEN_TAB_DELAY_MS : 0,
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
      if (fresh.length > 0) write({ ...list, watch: [...list.watch, ...fresh] });
    },
    /** Claims every finished job still on the watch list, e.g. when a listener arrives or the page shows. */
    sweep(jobs: readonly Job[]) {
      const { watch } = read();
      for (const job of jobs) if (!isActiveJob(job) && watch.includes(job.id)) claim(job);
    },
    /** Counts the announcement of `id` as seen: no tab announces it again. */
    acknowledge(id: string) {
      settle([id], true);
    },
    clear() {
      const key = storageKey();
      if (key) options.storage?.removeItem(key);
      memory = {};
    },
  };
}
