import { atom, computed, onMount, type ReadableAtom } from 'nanostores';
import { jwtClaims, type TokenOption } from '../auth/token.js';
import { createHttp, type Fetch } from '../http/http.js';
import { browserStorage, type KeyValueStorage, readJson, writeJson } from '../persist/storage.js';
import { isActiveJob, type JobMap, mergeJobs, replaceJobs } from '../store/jobs.js';
import { canShareTabs, joinTabs, type TabLink } from '../tabs/tabs.js';
import {
  type ConnectionStatus,
  type SyncMessage,
  startConnection,
  type Transport,
} from '../transport/connection.js';
import type { CreateJobResponse, Job, JsonValue } from '../wire.js';
import { createAnnouncer, type TerminalEvent } from './announcer.js';

export interface JobClientOptions {
  /** The job API's base URL, e.g. `/api` or `https://jobs.example.com/api`. */
  baseUrl: string;
  /** A bearer token, or a function returning a fresh one (called again after a 401 and before expiry). */
  token?: TokenOption;
  /** `auto` (default): SSE, falling back to polling when the stream cannot be held. */
  transport?: Transport;
  fetch?: Fetch;
  /**
   * Whose jobs these are: keys the local cache, the announcements and the tabs' shared connection.
   * Defaults to the `sub` of the token (a token function is asked once before anything cached is
   * shown). Without it and without a readable `sub`, nothing is cached; without any token, the one
   * anonymous user of this browser (dev mode).
   */
  user?: string;
  /** Where the last known jobs are kept between page loads. Default `localStorage`; `null` keeps nothing. */
  storage?: KeyValueStorage | null;
  /** Share one connection between the tabs of this origin (Web Locks + BroadcastChannel). Default true. */
  shareTabs?: boolean;
  /** Polling period while jobs are active / while none is. Defaults 2 s / 15 s. */
  pollActiveMs?: number;
  pollIdleMs?: number;
  /** A stream silent this long is reconnected (the server sends a heartbeat every 15 s). Default 45 s. */
  watchdogMs?: number;
}

export interface StartJobInput {
  type: string;
  scope?: string | null;
  title?: string | null;
  input?: JsonValue;
  /** Sent as `Idempotency-Key`: the same key returns the same job. */
  idempotencyKey?: string;
  /** False lets a second job of the same type and scope run beside the first. */
  dedupe?: boolean;
}

export type JobEvent = TerminalEvent | 'progress';

export interface JobClient {
  /** Every known job of the user, by id. */
  readonly $jobs: ReadableAtom<JobMap>;
  /** Pending and running jobs, newest first. */
  readonly $active: ReadableAtom<Job[]>;
  /** Finished jobs, most recently finished first. */
  readonly $recent: ReadableAtom<Job[]>;
  readonly $connection: ReadableAtom<ConnectionStatus>;
  /** Ids of jobs the user dismissed (hid) in any tab of this browser. */
  readonly $dismissed: ReadableAtom<readonly string[]>;
  /** One job, or undefined while unknown. */
  jobStore(id: string): ReadableAtom<Job | undefined>;
  /** The active job of this type and scope, if any: "is this button's job running?" */
  activeFor(type: string, scope?: string | null): ReadableAtom<Job | undefined>;
  /** Starts a job; resolves with the existing one when the server dedupes it. */
  start(input: StartJobInput): Promise<CreateJobResponse>;
  cancel(id: string): Promise<Job>;
  /** Starts a failed or cancelled job again (as a new job). */
  retry(id: string): Promise<CreateJobResponse>;
  /** Hides a job's card in every tab, across reloads; the job itself is untouched. */
  dismiss(id: string): void;
  /**
   * Listens for `progress` (every tab) or `completed` / `failed` / `cancelled` (once per browser,
   * including jobs that finished while the user was away). Returns the unsubscribe function. A finished
   * job counts as announced once its page stayed visible for about a second afterwards (or on
   * `acknowledge`): a page left or hidden sooner leaves it to the next page, which announces it again.
   */
  on(event: JobEvent, listener: (job: Job) => void): () => void;
  /**
   * Says that the user has seen the announcement of a finished job (they closed its toast or followed
   * its link), so no page announces it again, even if this one unloads at once.
   */
  acknowledge(id: string): void;
  /** Forgets the jobs and the cache of this user in this browser, e.g. on logout. */
  clear(): void;
  /** The cursor the client resumes from. */
  readonly cursor: string | null;
}

interface Persisted {
  v: 1;
  cursor: string | null;
  jobs: Job[];
}

type TabMessage =
  | { t: 'sync'; m: SyncMessage }
  | { t: 'status'; s: ConnectionStatus }
  | { t: 'hello' }
  | { t: 'state'; jobs: Job[]; cursor: string | null; s: ConnectionStatus }
  | { t: 'wake' }
  | { t: 'seen' };

const RECENT_KEPT = 20;
const DISMISSED_KEPT = 200;
const newestFirst = (a: Job, b: Job) => (a.createdAt < b.createdAt ? 1 : a.createdAt > b.createdAt ? -1 : 0);
const finishedFirst = (a: Job, b: Job) => {
  const x = a.completedAt ?? a.updatedAt;
  const y = b.completedAt ?? b.updatedAt;
  return x < y ? 1 : x > y ? -1 : 0;
};
const hasDocument = () => typeof document !== 'undefined';
const pageHidden = () => hasDocument() && document.visibilityState === 'hidden';

/**
 * Creates a client of the job API: stores of the user's jobs that stay in step with the server while
 * anything subscribes (the connection starts with the first subscriber and stops after the last), and
 * the actions to start, cancel and retry jobs. No singleton: every call makes an independent client.
 *
 * ```ts
 * const client = createJobClient({ baseUrl: '/api', token: () => fetchToken() });
 * client.$active.subscribe((jobs) => render(jobs));
 * client.on('completed', (job) => toast(job.title, job.result));
 * ```
 */
export function createJobClient(options: JobClientOptions): JobClient {
  const baseUrl = options.baseUrl.replace(/\/+$/, '');
  const tokenOption = options.token;
  const ownerOf = (token: string | null | undefined) => String(jwtClaims(token)?.sub ?? '') || null;
  // The token function's first answer serves both to learn the owner and for the first request.
  let firstToken: Promise<string | null | undefined> | null = null;
  const askToken = typeof tokenOption === 'function' ? () => Promise.resolve().then(tokenOption) : null;
  const http = createHttp({
    ...options,
    baseUrl,
    token: askToken
      ? () => {
          const token = firstToken ?? askToken();
          firstToken = null;
          return token;
        }
      : tokenOption,
  });
  const storage = options.storage === undefined ? browserStorage() : options.storage;
  /** Whose cache this is: unknown (null: keep nothing), or not known yet (undefined: show nothing yet). */
  let owner: string | null | undefined =
    options.user || (askToken ? undefined : tokenOption ? ownerOf(tokenOption as string) : 'default');
  let key: string | null = null;
  /** The storage, once the owner is known: nothing is kept under a key another user could share. */
  let store: KeyValueStorage | null = null;
  const dismissedKey = () => `${key}:dismissed`;

  let cursor: string | null = null;
  const $jobs = atom<JobMap>({});
  const $connection = atom<ConnectionStatus>({ state: 'connecting', lastContactAt: null });
  const $dismissed = atom<readonly string[]>([]);
  const $active = computed($jobs, (jobs) => Object.values(jobs).filter(isActiveJob).sort(newestFirst));
  const $recent = computed($jobs, (jobs) =>
    Object.values(jobs)
      .filter((job) => !isActiveJob(job))
      .sort(finishedFirst),
  );

  const listeners: Record<JobEvent, Set<(job: Job) => void>> = {
    progress: new Set(),
    completed: new Set(),
    failed: new Set(),
    cancelled: new Set(),
  };
  const emit = (event: JobEvent, job: Job) => {
    for (const listener of listeners[event]) {
      try {
        listener(job);
      } catch (error) {
        queueMicrotask(() => {
          throw error;
        });
      }
    }
  };
  const announcer = createAnnouncer({
    storage,
    key: () => store && key,
    hasListeners: (event) => listeners[event].size > 0,
    announce: emit,
    hidden: pageHidden,
  });

  let persistTimer: ReturnType<typeof setTimeout> | undefined;
  const persist = () => {
    persistTimer = undefined;
    const jobs = [...$active.get(), ...$recent.get().slice(0, RECENT_KEPT)];
    writeJson(store, key as string, { v: 1, cursor, jobs } satisfies Persisted);
  };

  /** Takes what this browser keeps for `user`, once known; an unknown user starts empty and keeps nothing. */
  const adopt = (user: string | null) => {
    owner = user;
    if (!user) return;
    key = `jobtracker:${baseUrl}:${user}`;
    store = storage;
    const saved = readJson<Persisted>(store, key);
    $dismissed.set(readJson<string[]>(store, dismissedKey()) ?? []);
    if (saved?.v !== 1) return;
    cursor ??= saved.cursor;
    $jobs.set(mergeJobs($jobs.get(), saved.jobs).map);
  };
  if (owner !== undefined) adopt(owner);
  let ownerKnown: Promise<void> | undefined;
  const knowOwner = () => {
    if (!ownerKnown) {
      firstToken = (askToken as () => Promise<string | null | undefined>)();
      ownerKnown = firstToken.then(ownerOf, () => null).then(adopt);
    }
    return ownerKnown;
  };

  let link: TabLink<TabMessage> | null = null;
  let leading = false;

  function apply(message: SyncMessage, from: 'network' | 'relay' | 'action') {
    const held = $jobs.get();
    const { map, changes } =
      message.kind === 'snapshot' ? replaceJobs(held, message.jobs) : mergeJobs(held, message.jobs);
    if (from !== 'action') cursor = message.cursor;
    if (from === 'network' && link) link.post({ t: 'sync', m: message });
    if (map !== held) $jobs.set(map);
    if (store && persistTimer === undefined) persistTimer = setTimeout(persist, 200);
    for (const [before, job] of changes) {
      if (
        job.status === 'running' &&
        (before?.progress !== job.progress || before?.message !== job.message)
      ) {
        emit('progress', job);
      }
    }
    announcer.observe(changes);
  }

  // ---- connection lifecycle: the first subscriber starts it, the last one stops it ----
  const wakers = new Set<() => void>();
  let followerSeenAt = 0;
  const wake = () => {
    if (link && !leading) link.post({ t: 'wake' });
    for (const waker of wakers) waker();
  };
  function connect(): () => void {
    return startConnection({
      http,
      transport: options.transport ?? 'auto',
      cursor: () => cursor,
      deliver: (message) => apply(message, 'network'),
      status: (status) => {
        $connection.set(status);
        link?.post({ t: 'status', s: status });
      },
      busy: () => $active.get().length > 0,
      hidden: () => pageHidden() && Date.now() - followerSeenAt > 60_000,
      offline: () => typeof navigator !== 'undefined' && navigator.onLine === false,
      onWake: (waker) => {
        wakers.add(waker);
        return () => wakers.delete(waker);
      },
      pollActiveMs: options.pollActiveMs,
      pollIdleMs: options.pollIdleMs,
      watchdogMs: options.watchdogMs,
    });
  }

  function receive(message: TabMessage) {
    if (leading) {
      if (message.t === 'hello') {
        link?.post({ t: 'state', jobs: Object.values($jobs.get()), cursor, s: $connection.get() });
      } else if (message.t === 'wake' || message.t === 'seen') {
        followerSeenAt = Date.now();
        if (message.t === 'wake') for (const waker of wakers) waker();
      }
      return;
    }
    if (message.t === 'sync') apply(message.m, 'relay');
    else if (message.t === 'status') $connection.set(message.s);
    else if (message.t === 'state') {
      apply({ kind: 'snapshot', jobs: message.jobs, cursor: message.cursor ?? '' }, 'relay');
      cursor = message.cursor;
      $connection.set(message.s);
    }
  }

  let stopSync: (() => void) | null = null;
  /** Starts the link to the server: as one of the tabs (leader or follower), or on its own. */
  function openLink(): () => void {
    if (options.shareTabs === false || !canShareTabs() || !key) return connect();
    const tabs = joinTabs<TabMessage>(key, {
      lead: () => {
        leading = true;
        const stop = connect();
        return () => {
          leading = false;
          stop();
        };
      },
      receive,
    });
    link = tabs;
    tabs.post({ t: 'hello' });
    const seen = setInterval(() => !leading && !pageHidden() && tabs.post({ t: 'seen' }), 30_000);
    return () => {
      clearInterval(seen);
      tabs.leave();
      link = null;
    };
  }

  function startSync() {
    const cleanups: (() => void)[] = [];
    let closeLink: (() => void) | null = null;
    let syncing = true;
    const begin = () => {
      if (!syncing) return;
      closeLink = openLink();
      announcer.sweep(Object.values($jobs.get()));
    };
    if (owner === undefined) void knowOwner().then(begin);
    else begin();
    cleanups.push(() => {
      syncing = false;
      closeLink?.();
      closeLink = null;
    });
    if (typeof addEventListener === 'function') {
      const onVisible = () => {
        if (pageHidden()) return;
        wake();
        announcer.sweep(Object.values($jobs.get()));
      };
      const onStorage = (event: StorageEvent) => {
        if (event.key === dismissedKey()) $dismissed.set(readJson<string[]>(store, dismissedKey()) ?? []);
      };
      // A page kept in the back-forward cache must not hold a connection (or the tabs' lock): browsers
      // allow only a few connections per server, and another tab should lead meanwhile.
      const onHide = () => {
        closeLink?.();
        closeLink = null;
        if (persistTimer === undefined) return;
        clearTimeout(persistTimer);
        persist();
      };
      const onShow = (event: PageTransitionEvent) => {
        if (event.persisted && !closeLink && owner !== undefined) closeLink = openLink();
      };
      addEventListener('online', wake);
      addEventListener('focus', wake);
      addEventListener('storage', onStorage);
      addEventListener('pagehide', onHide);
      addEventListener('pageshow', onShow);
      if (hasDocument()) document.addEventListener('visibilitychange', onVisible);
      cleanups.push(() => {
        removeEventListener('online', wake);
        removeEventListener('focus', wake);
        removeEventListener('storage', onStorage);
        removeEventListener('pagehide', onHide);
        removeEventListener('pageshow', onShow);
        if (hasDocument()) document.removeEventListener('visibilitychange', onVisible);
      });
    }
    stopSync = () => {
      for (const cleanup of cleanups.splice(0)) cleanup();
      stopSync = null;
    };
  }

  let users = 0;
  const retain = () => {
    if (users++ === 0) startSync();
    return () => {
      if (--users === 0) stopSync?.();
    };
  };
  onMount($jobs, retain);
  onMount($connection, retain);

  const jobStores = new Map<string, ReadableAtom<Job | undefined>>();
  const activeStores = new Map<string, ReadableAtom<Job | undefined>>();

  return {
    $jobs,
    $active,
    $recent,
    $connection,
    $dismissed,
    jobStore(id) {
      let store = jobStores.get(id);
      if (!store) {
        store = computed($jobs, (jobs) => jobs[id]);
        jobStores.set(id, store);
      }
      return store;
    },
    activeFor(type, scope = null) {
      const storeKey = `${type}\u0000${scope ?? ''}`;
      let store = activeStores.get(storeKey);
      if (!store) {
        store = computed($active, (jobs) =>
          jobs.find((job) => job.type === type && job.scope === (scope ?? null)),
        );
        activeStores.set(storeKey, store);
      }
      return store;
    },
    async start({ idempotencyKey, ...body }) {
      const response = await http.json<CreateJobResponse>('/jobs', {
        body,
        headers: idempotencyKey ? { 'Idempotency-Key': idempotencyKey } : {},
      });
      apply({ kind: 'jobs', jobs: [response.job], cursor: '' }, 'action');
      return response;
    },
    async cancel(id) {
      const { job } = await http.json<{ job: Job }>(`/jobs/${encodeURIComponent(id)}/cancel`, {
        method: 'POST',
      });
      apply({ kind: 'jobs', jobs: [job], cursor: '' }, 'action');
      return job;
    },
    async retry(id) {
      const response = await http.json<CreateJobResponse>(`/jobs/${encodeURIComponent(id)}/retry`, {
        method: 'POST',
      });
      apply({ kind: 'jobs', jobs: [response.job], cursor: '' }, 'action');
      return response;
    },
    dismiss(id) {
      const ids = $dismissed.get();
      if (ids.includes(id)) return;
      const next = [...ids, id].slice(-DISMISSED_KEPT);
      $dismissed.set(next);
      writeJson(store, dismissedKey(), next);
    },
    acknowledge: (id) => announcer.acknowledge(id),
    on(event, listener) {
      listeners[event].add(listener);
      if (event !== 'progress') announcer.sweep(Object.values($jobs.get()));
      return () => listeners[event].delete(listener);
    },
    clear() {
      cursor = null;
      $jobs.set({});
      $dismissed.set([]);
      clearTimeout(persistTimer);
      persistTimer = undefined;
      store?.removeItem(key as string);
      store?.removeItem(dismissedKey());
      announcer.clear();
    },
    get cursor() {
      return cursor;
    },
  };
}
