import { atom, computed, onMount, type ReadableAtom } from 'nanostores';
import type { TokenOption } from '../auth/token.js';
import { createHttp, type Fetch, type HttpRequest } from '../http/http.js';
import { browserOffline, listenToPage, pageHidden } from '../page/page-events.js';
import { createOwnerCache } from '../persist/owner-cache.js';
import { browserStorage, type KeyValueStorage } from '../persist/storage.js';
import { createJobStores, type JobUpdate } from '../store/job-stores.js';
import type { JobMap } from '../store/jobs.js';
import { type ConnectionHooks, shareConnection } from '../tabs/tab-sync.js';
import { canShareTabs } from '../tabs/tabs.js';
import {
  type Connection,
  type ConnectionStatus,
  startConnection,
  type Transport,
} from '../transport/connection.js';
import type {
  CreateJobRequest,
  CreateJobResponse,
  Job,
  JobListResponse,
  JobResponse,
  JsonValue,
} from '../wire.js';
import { createAnnouncer } from './announcer.js';
import { createJobEvents, type JobEvent } from './events.js';
import { knownOwner, ownerKey, tokenOwner } from './owner.js';

export type { JobEvent } from './events.js';

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
  /**
   * Polling: the least time between two polls while jobs are active (their changes in that time come
   * together). Default 3 s.
   */
  pollActiveMs?: number;
  /**
   * Polling: how long the server may hold a poll until something changes (at most 30 s), and the least
   * time between two polls while no job is active where polls cannot be held. Default 25 s.
   */
  pollIdleMs?: number;
  /** A stream silent this long is reconnected (the server sends a heartbeat when it was silent for 25 s). Default 60 s. */
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

/** Which page of `listJobs`: the filters, the page size and where the page before ended. */
export interface ListJobsInput {
  /** Status names, e.g. `['completed', 'failed']` or `'completed,failed'`; also `active` and `finished`. Default: all. */
  status?: string | readonly string[];
  type?: string;
  scope?: string;
  /** Jobs per page, 1–200 (the server's default is 50). */
  limit?: number;
  /** The `next` of the page before; none (or null) asks for the first, newest page. */
  before?: string | null;
  signal?: AbortSignal;
}

/** One page of the user's jobs, newest first. */
export interface JobPage {
  jobs: Job[];
  /** Pass as `before` for the next, older page; null when no older job matches. */
  next: string | null;
}

export interface JobClient {
  /** Every known job of the user, by id. */
  readonly $jobs: ReadableAtom<JobMap>;
  /** Pending and running jobs, newest first. */
  readonly $active: ReadableAtom<Job[]>;
  /** Finished jobs, most recently finished first. */
  readonly $recent: ReadableAtom<Job[]>;
  readonly $connection: ReadableAtom<ConnectionStatus>;
  /**
   * Ids of the jobs the user dismissed (hid from the tracker), on any device: the held jobs whose
   * `dismissedAt` is set, with this page's `dismiss` and `restore` calls applied at once, before the
   * server answers. A dismissal made elsewhere arrives with the job's change.
   */
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
  /**
   * Hides a job from the tracker for this user on every device and browser (`POST /jobs/:id/dismiss`);
   * the job itself is untouched (a running job keeps running). `$dismissed` has the id at once; it
   * follows the server's answer, or, when the call fails, drops the id again and the promise rejects
   * with a `JobTrackerHttpError` (e.g. `not_found`) or `JobTrackerNetworkError`. Resolves with the job.
   */
  dismiss(id: string): Promise<Job>;
  /** Brings a dismissed job back into the tracker everywhere; optimistic and rolled back like `dismiss`. */
  restore(id: string): Promise<Job>;
  /**
   * Fetches one page of the user's jobs from the server, newest first, e.g. to show a long history page
   * by page: `const { jobs, next } = await client.listJobs({ status: 'completed', limit: 20, before })`.
   * The page is not merged into `$jobs` (those stay the live ones). Rejects with a `JobTrackerHttpError`
   * (e.g. `400 invalid_query` for a `before` no page gave) or a `JobTrackerNetworkError`.
   */
  listJobs(input?: ListJobsInput): Promise<JobPage>;
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

/** Finished jobs kept in the local cache beside the active ones. */
const RECENT_KEPT = 20;

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
  const http = createHttp(options);
  const storage = options.storage === undefined ? browserStorage() : options.storage;
  const jobs = createJobStores();
  const $connection = atom<ConnectionStatus>({ state: 'connecting', lastContactAt: null });
  const cache = createOwnerCache(storage, () => ({
    cursor: jobs.cursor,
    jobs: jobs.saved(RECENT_KEPT),
  }));
  const events = createJobEvents();
  /** The owner's key once the owner is known; null while unknown, and for good when it cannot be known. */
  let key: string | null = null;
  const announcer = createAnnouncer({ storage, key: () => key, events });

  /** Whose jobs these are: a string once known, null if it cannot be, undefined until the token function answers. */
  let owner = knownOwner(options.user, options.token);
  const adopt = (known: string | null) => {
    owner = known;
    if (!known) return;
    key = ownerKey(baseUrl, known);
    const saved = cache.open(key);
    if (saved) jobs.take({ kind: 'jobs', jobs: saved.jobs, cursor: jobs.cursor ?? saved.cursor });
  };
  if (owner) adopt(owner);
  // The token function's answer names the owner, and serves the first requests as well.
  let ownerKnown: Promise<void> | undefined;
  const knowOwner = () =>
    (ownerKnown ??= http
      .token()
      .then(tokenOwner, () => null)
      .then(adopt));

  function apply(update: JobUpdate) {
    const changes = jobs.take(update);
    cache.saveSoon(changes.every(([before, job]) => before?.status === job.status));
    for (const [before, job] of changes) {
      if (
        job.status === 'running' &&
        (before?.progress !== job.progress || before?.message !== job.message)
      ) {
        events.emit('progress', job);
      }
    }
    announcer.observe(changes);
  }

  const connect = (hooks: ConnectionHooks) =>
    startConnection({
      ...options, // the polling periods and the watchdog
      ...hooks,
      http,
      transport: options.transport ?? 'auto',
      cursor: () => jobs.cursor,
      job: (id) => jobs.$jobs.get()[id],
      busy: () => jobs.$active.get().length > 0,
      offline: browserOffline,
    });
  /** Connects to the server: as one of the tabs (the leader holds the connection), or on its own. */
  function openLink(): Connection {
    const hooks = { deliver: apply, status: $connection.set };
    if (options.shareTabs === false || !canShareTabs() || !key)
      return connect({ ...hooks, hidden: pageHidden });
    const current = () => ({ jobs: jobs.list(), cursor: jobs.cursor, status: $connection.get() });
    return shareConnection(key, { ...hooks, current, connect });
  }

  // The connection runs while $jobs is mounted (nanostores keep a store mounted while anything, or any
  // store computed from it, listens); a subscriber of $connection alone keeps $jobs mounted too.
  onMount($connection, () => jobs.$jobs.listen(() => {}));
  onMount(jobs.$jobs, () => {
    let link: Connection | null = null;
    let syncing = true;
    const open = () => {
      if (!syncing) return;
      link = openLink();
      announcer.sweep(jobs.list());
    };
    const close = () => {
      link?.stop();
      link = null;
    };
    if (owner === undefined) void knowOwner().then(open);
    else open();
    const stopListening = listenToPage({
      wake: () => link?.wake(),
      visible() {
        link?.wake();
        announcer.sweep(jobs.list());
      },
      // A page kept in the back-forward cache must not hold a connection (or the tabs' lock): browsers
      // allow only a few connections per server, and another tab should lead meanwhile.
      leave() {
        close();
        cache.flush();
      },
      restore() {
        if (!link && owner !== undefined) link = openLink();
      },
    });
    return () => {
      syncing = false;
      close();
      stopListening();
    };
  });

  const act = async <T extends { job: Job }>(path: string, request: HttpRequest) => {
    const answer = await http.json<T>(path, request);
    apply({ kind: 'jobs', jobs: [answer.job] });
    return answer;
  };
  const actOn = <T extends { job: Job }>(id: string, action: 'cancel' | 'retry') =>
    act<T>(`/jobs/${encodeURIComponent(id)}/${action}`, { method: 'POST' });

  /** Dismissals and restores sent but not answered yet, by job id: what `$dismissed` shows meanwhile. */
  const $pending = atom<Readonly<Record<string, { dismissed: boolean; call: number }>>>({});
  let calls = 0;
  let shown: readonly string[] = [];
  const $dismissed = computed([jobs.$jobs, $pending], (held, pending) => {
    const ids = Object.values(held)
      .filter((job) => pending[job.id]?.dismissed ?? job.dismissedAt !== null)
      .map((job) => job.id);
    for (const [id, { dismissed }] of Object.entries(pending)) if (dismissed && !held[id]) ids.push(id);
    // The same list stays the same array: progress of a running job does not wake its subscribers.
    if (ids.length !== shown.length || ids.some((id, i) => id !== shown[i])) shown = ids;
    return shown;
  });
  async function setDismissed(id: string, dismissed: boolean): Promise<Job> {
    const call = ++calls;
    $pending.set({ ...$pending.get(), [id]: { dismissed, call } });
    try {
      const path = `/jobs/${encodeURIComponent(id)}/dismiss`;
      return (await act<JobResponse>(path, { method: 'POST', body: { dismissed } })).job;
    } finally {
      // The server's answer (taken in above) or the job as it was stands now, unless a later call
      // on the same job is still out: then that one's wish stands until it is answered.
      const { [id]: mine, ...others } = $pending.get();
      if (mine?.call === call) $pending.set(others);
    }
  }

  return {
    $jobs: jobs.$jobs,
    $active: jobs.$active,
    $recent: jobs.$recent,
    $connection,
    $dismissed,
    jobStore: jobs.jobStore,
    activeFor: jobs.activeFor,
    start: ({ idempotencyKey, ...body }) =>
      act<CreateJobResponse>('/jobs', {
        body: body satisfies CreateJobRequest,
        headers: idempotencyKey ? { 'Idempotency-Key': idempotencyKey } : {},
      }),
    cancel: async (id) => (await actOn<JobResponse>(id, 'cancel')).job,
    retry: (id) => actOn<CreateJobResponse>(id, 'retry'),
    dismiss: (id) => setDismissed(id, true),
    restore: (id) => setDismissed(id, false),
    async listJobs({ signal, status, ...filters } = {}) {
      const query = new URLSearchParams();
      for (const [name, value] of Object.entries({ ...filters, status: String(status ?? '') }))
        if (value || value === 0) query.set(name, String(value));
      const page = await http.json<JobListResponse>(`/jobs?${query}`, { signal });
      return { jobs: page.jobs, next: page.next ?? null };
    },
    acknowledge: announcer.acknowledge,
    on(event, listener) {
      const off = events.on(event, listener);
      if (event !== 'progress') announcer.sweep(jobs.list());
      return off;
    },
    clear() {
      jobs.clear();
      cache.clear();
      $pending.set({});
      announcer.clear();
    },
    get cursor() {
      return jobs.cursor;
    },
  };
}
