import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { eventually } from '@jobtracker/test-support/browser-assert';
import { ANNOUNCEMENT_SEEN_MS } from '@jobtracker/test-support/sdk-internals';
import { useExampleApp } from './harness.js';

const example = useExampleApp();

/**
 * How long a toast must stay on a page before a person could have seen it: the SDK's own rule. A toast
 * that a page showed for less is given back, and the next page shows it again.
 */
const SEEN_MS = ANNOUNCEMENT_SEEN_MS;
/**
 * When the user clicks "Settings", relative to the job's completion. Up to +600 ms the toast has been
 * up for less than a second when the page unloads; at +1800 ms it has been seen on the first page.
 */
const OFFSETS = (process.env.JOBTRACKER_NAV_OFFSETS ?? '-600,-300,-100,0,100,200,350,600,1800')
  .split(',')
  .map(Number);

/** What a page of the app reported: it loaded, a toast appeared in its tracker, or it unloaded. */
interface PageEvent {
  doc: string;
  kind: 'load' | 'toast' | 'unload';
  path: string;
  at: number;
  job?: string;
}

// Runs in every document before the page's own scripts: reports its load, every toast its tracker
// shows (checked each animation frame), and its unload.
const RECORDER = `(() => {
  if (!location.protocol.startsWith('http')) return;
  const doc = Math.random().toString(36).slice(2);
  const report = (kind, job) => window.__pageEvent({ doc, kind, path: location.pathname, at: Date.now(), job });
  report('load');
  const seen = new Set();
  const check = () => {
    const toasts = document.querySelector('job-tracker')?.shadowRoot?.querySelectorAll('[part="toast"]') ?? [];
    for (const toast of toasts) {
      const id = toast.getAttribute('data-job-id');
      if (!seen.has(id)) {
        seen.add(id);
        report('toast', id);
      }
    }
    requestAnimationFrame(check);
  };
  requestAnimationFrame(check);
  addEventListener('pagehide', () => report('unload'));
})();`;

async function post<T>(path: string, body: unknown): Promise<T> {
  const response = await fetch(`${example.base}/api${path}`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify(body),
  });
  assert.ok(response.ok, `POST ${path}: HTTP ${response.status}`);
  return (await response.json()) as T;
}

/** One scene: a job runs while the user is on /programs; they click "Settings" `offset` ms from its completion. */
async function navigateAround(offset: number, index: number) {
  const context = await example.browser.newContext({ viewport: { width: 1200, height: 800 } });
  const events: PageEvent[] = [];
  await context.exposeFunction('__pageEvent', (event: PageEvent) => void events.push(event));
  await context.addInitScript(RECORDER);
  const page = await context.newPage();
  // A commit of the next document is the latest the page before it can have unloaded.
  page.on('framenavigated', (frame) => {
    if (frame !== page.mainFrame()) return;
    const last = events.filter((event) => event.kind === 'load').at(-1);
    if (last) events.push({ doc: last.doc, kind: 'unload', path: last.path, at: Date.now() });
  });
  try {
    await page.goto(`${example.base}/programs`);
    const type = `e2e.navigation.${index}`;
    const { job } = await post<{ job: { id: string } }>('/jobs', { type, title: `Navigation ${offset} ms` });
    const { leaseToken } = await post<{ leaseToken: string }>('/worker/claim', {
      types: [type],
      leaseMs: 60_000,
    });
    await page.locator(`job-tracker [part="card"][data-job-id="${job.id}"]`).waitFor({ timeout: 10_000 });
    const complete = () =>
      post(`/worker/jobs/${job.id}/complete`, { leaseToken, result: { url: '/programs' } });
    const click = () => page.click('nav a[href="/settings"]', { noWaitAfter: true });
    if (offset < 0) {
      await click();
      await new Promise((resolve) => setTimeout(resolve, -offset));
      await complete();
    } else {
      await complete();
      await new Promise((resolve) => setTimeout(resolve, offset));
      await click();
    }
    await page.waitForURL(/\/settings$/);
    await page.waitForLoadState('load');
    // The page that stays: long enough for a late toast to appear and be seen.
    await eventually(
      () => events.some((event) => event.kind === 'toast' && event.path === '/settings'),
      3000,
      'a toast on /settings',
    ).catch(() => {});
    await page.waitForTimeout(SEEN_MS + 500);
    const end = Date.now();

    const toasts = events.filter((event) => event.kind === 'toast' && event.job === job.id);
    const unloadOf = (doc: string) =>
      Math.min(
        ...events.filter((event) => event.doc === doc && event.kind === 'unload').map((e) => e.at),
        end,
      );
    const stayed = toasts.filter((toast) => unloadOf(toast.doc) - toast.at >= SEEN_MS);
    const story = events
      .map((event) => `${event.at - (events[0]?.at ?? 0)} ms ${event.path} ${event.kind} ${event.doc}`)
      .join('; ');
    return { stayed: stayed.map((toast) => toast.path), shown: toasts.length, story };
  } finally {
    await context.close();
  }
}

describe('a completion toast around a page navigation (examples/multi-page)', () => {
  it('shows every completion exactly once on a page that stayed, whenever the user navigates', async () => {
    const failures: string[] = [];
    for (const [index, offset] of OFFSETS.entries()) {
      const { stayed, shown, story } = await navigateAround(offset, index);
      if (stayed.length !== 1)
        failures.push(
          `click at ${offset} ms: shown on ${JSON.stringify(stayed)} that stayed (${shown} toasts): ${story}`,
        );
    }
    assert.deepEqual(
      failures,
      [],
      `each completion is shown exactly once on a page that stayed ≥ ${SEEN_MS} ms`,
    );
  });
});
