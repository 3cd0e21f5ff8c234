import { type CreateJobResponse, createJobClient, type Job, type JobClient } from '@jobtracker/sdk';
import { testConfig, tokenFor, uniqueUser, workerCall } from '../../../sdk/src/testing/browser-env.js';

export { assert, assertEqual, delay, eventually } from '../../../sdk/src/testing/browser-assert.js';
export {
  streamCount,
  streamsClosed,
  testConfig,
  tokenFor,
  uniqueUser,
  workerCall,
} from '../../../sdk/src/testing/browser-env.js';

/** A user of the real test server with a client of their own (no cache, no tab sharing). */
export async function testUser(prefix: string, options: { storage?: Storage | null } = {}) {
  const { apiUrl } = await testConfig();
  const user = uniqueUser(prefix);
  const token = await tokenFor(user);
  const client: JobClient = createJobClient({
    baseUrl: apiUrl,
    token,
    user,
    storage: options.storage ?? null,
    shareTabs: false,
  });
  return {
    user,
    token,
    apiUrl,
    client,
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
  };
}

/** Runs axe-core on an element (and its shadow root) and throws on any violation. */
export async function checkAccessibility(element: Element): Promise<void> {
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
  const results = await win.axe?.run(element, { resultTypes: ['violations'] });
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
