import { type CreateJobResponse, createJobClient, type Job, type JobClient } from '@jobtracker/sdk';
import { testConfig, tokenFor, uniqueUser, workerCall } from '@jobtracker/test-support/browser-env';

export * from '@jobtracker/test-support/browser-assert';
export * from '@jobtracker/test-support/browser-env';

/**
 * The network between a test client and the real server: `down()` drops the client's open requests
 * (its change stream too) and refuses new ones, as an unreachable server would; `up()` lets them through.
 */
export interface TestNetwork {
  readonly fetch: typeof fetch;
  down(): void;
  up(): void;
}

const networks = new Set<TestNetwork>();

/** A fetch through a `TestNetwork` (see `testUser`'s `network`). */
export function testNetwork(): TestNetwork {
  let isDown = false;
  const open = new Set<AbortController>();
  const network: TestNetwork = {
    fetch: (input, init) => {
      if (isDown) return Promise.reject(new TypeError('Failed to fetch (the test network is down)'));
      const controller = new AbortController();
      const outer = init?.signal;
      if (outer?.aborted) controller.abort(outer.reason);
      outer?.addEventListener('abort', () => controller.abort(outer.reason), { once: true });
      controller.signal.addEventListener('abort', () => open.delete(controller), { once: true });
      open.add(controller);
      return globalThis.fetch(input, { ...init, signal: controller.signal });
    },
    down() {
      isDown = true;
      for (const controller of [...open]) controller.abort(new DOMException('network down', 'AbortError'));
    },
    up() {
      isDown = false;
    },
  };
  networks.add(network);
  return network;
}

/**
 * Cuts every `testUser` client off the server at once. Call it after each test (before
 * `streamsClosed()`): a client's stream otherwise stays open for a second after its last subscriber left.
 */
export function disconnectTestClients(): void {
  for (const network of networks) network.down();
  networks.clear();
}

/** A user of the real test server with a client of their own (no cache, no tab sharing). */
export async function testUser(prefix: string, options: { storage?: Storage | null } = {}) {
  const { apiUrl } = await testConfig();
  const user = uniqueUser(prefix);
  const token = await tokenFor(user);
  const network = testNetwork();
  const client: JobClient = createJobClient({
    baseUrl: apiUrl,
    token,
    user,
    storage: options.storage ?? null,
    shareTabs: false,
    fetch: network.fetch,
  });
  return {
    user,
    token,
    apiUrl,
    client,
    /** Takes this client's server away (`down()`) and back (`up()`). */
    network,
    /** Creates a job as this user through the API. */
    async create(body: {
      type: string;
      scope?: string;
      title?: string;
      input?: unknown;
      dedupe?: boolean;
    }): Promise<Job> {
      const response = await fetch(`${apiUrl}/jobs`, {
        method: 'POST',
        headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' },
        body: JSON.stringify(body),
      });
      if (response.status !== 201) throw new Error(`create: HTTP ${response.status}`);
      return ((await response.json()) as CreateJobResponse).job;
    },
  };
}

/** Runs a job as a worker: claim it, then drive it with the returned functions. */
export async function claimJob(type: string) {
  const claimed = await workerCall<{ job: Job; leaseToken: string }>('/claim', {
    types: [type],
    leaseMs: 60_000,
  });
  if (claimed.status !== 200) throw new Error(`claim ${type}: HTTP ${claimed.status}`);
  const { job, leaseToken } = claimed.json;
  return {
    job,
    progress: (progress: number | null, message?: string) =>
      workerCall(`/jobs/${job.id}/progress`, { leaseToken, progress, message }),
    complete: (result: unknown) => workerCall(`/jobs/${job.id}/complete`, { leaseToken, result }),
    fail: (message: string, code?: string) =>
      workerCall(`/jobs/${job.id}/fail`, { leaseToken, error: { message, code, retryable: true } }),
    /** Gives the job back, as a worker that shuts down (e.g. with its server) does: pending, to start again. */
    release: () => workerCall(`/jobs/${job.id}/release`, { leaseToken }),
  };
}

/**
 * Runs axe-core on an element (and its shadow root) and throws on any violation. `options` go to
 * `axe.run`, e.g. `{ rules: { 'target-size': { enabled: true } } }` for a rule that is off by default.
 */
export async function checkAccessibility(element: Element, options: object = {}): Promise<void> {
  const win = window as unknown as {
    axe?: {
      run(
        context: Element,
        options?: object,
      ): Promise<{ violations: { id: string; help: string; nodes: unknown[] }[] }>;
    };
  };
  if (!win.axe) {
    await new Promise<void>((resolve, reject) => {
      const script = document.createElement('script');
      script.src = '/node_modules/axe-core/axe.min.js';
      script.onload = () => resolve();
      script.onerror = () => reject(new Error('axe-core did not load'));
      document.head.append(script);
    });
  }
  const results = await win.axe?.run(element, { ...options, resultTypes: ['violations'] });
  const violations = results?.violations ?? [];
  if (violations.length > 0) {
    throw new Error(
      `Accessibility violations: ${violations.map((v) => `${v.id} (${v.help}, ${v.nodes.length} nodes)`).join('; ')}`,
    );
  }
}

/** Hostile strings for text fields and URLs. */
export const XSS_PAYLOADS = [
  '<img src=x onerror="window.__xss=1">',
  '<script>window.__xss=1</script>',
  '"><svg onload="window.__xss=1">',
  '&lt;img src=x onerror=window.__xss=1&gt;',
  '<a href="javascript:window.__xss=1">click</a>',
];

export const HOSTILE_URLS = [
  'javascript:window.__xss=1',
  'JaVaScRiPt:window.__xss=1',
  ' javascript:window.__xss=1',
  'java\tscript:window.__xss=1',
  'data:text/html,<script>window.__xss=1</script>',
  'vbscript:msgbox(1)',
];

/**
 * More hostile URLs: whitespace, control characters, case, entities and encodings that a naive
 * `startsWith('javascript:')` check lets through. None may become a link other than to an http(s) page.
 */
export const HOSTILE_URL_TRICKS = [
  '   JaVaScRiPt:window.__xss=1',
  '\n\tjavascript:window.__xss=1',
  '\u0001javascript:window.__xss=1',
  'jav&#x09;ascript:window.__xss=1',
  '&#106;avascript:window.__xss=1',
  'javascript&colon;window.__xss=1',
  'javascript://%0Awindow.__xss=1',
  'DATA:text/html;base64,PHNjcmlwdD53aW5kb3cuX194c3M9MTwvc2NyaXB0Pg==',
  ' data:image/svg+xml,<svg onload="window.__xss=1">',
];
