/// <reference types="@jobtracker/test-support/mocha" />
// Stalls, from the user's side against the real test server: a running job that declared `staleAfterMs`
// (the shortest the server allows) and then has no update for that long shows "No update for …" on its
// card in <job-tracker> and in <job-list>, with the stalled look, and says so once, politely; its next
// update clears it and says "updates again". No server event makes a job stalled: time alone does.
import type { Job } from '@jobtracker/sdk';
import { MIN_STALE_AFTER_MS } from '@jobtracker/sdk/wire';
import { JobList } from './job-list/job-list.js';
import { de } from './locales/de.js';
import { defineElement } from './shared/define.js';
import { registerJobLocale } from './shared/locale.js';
import { recordAnnouncements } from './testing/announcements.js';
import { card, mount, mounted, root, setUpTrackerTests, text } from './testing/tracker.js';
import {
  assert,
  assertEqual,
  checkAccessibility,
  claimJob,
  delay,
  eventually,
  testUser,
} from './testing/widget-env.js';

setUpTrackerTests();
defineElement('job-list', JobList);
registerJobLocale('de', de);

type TestUser = Awaited<ReturnType<typeof testUser>>;

const TITLE = 'Q3 growth program';
const STALL_LINE = new RegExp(`^polite: ${TITLE}: no update for \\d+ sec$`);
const RESUME_LINE = `polite: ${TITLE}: updates again`;

/** Creates a job of a type of its own that declares the shortest `staleAfterMs`, claims it and reports once. */
async function stallingJob(user: TestUser, name: string) {
  const type = `stalls.${name}.${crypto.randomUUID().slice(0, 8)}`;
  // Through the API as the user; `create`'s type does not list `staleAfterMs`, its body passes it on.
  const body = { type, title: TITLE, dedupe: false, staleAfterMs: MIN_STALE_AFTER_MS };
  const job = await user.create(body);
  assertEqual(job.staleAfterMs, MIN_STALE_AFTER_MS, 'the server keeps the declared staleAfterMs');
  const worker = await claimJob(type);
  const reported = await worker.progress(20, 'Writing sections');
  assertEqual(reported.status, 200, 'the first report');
  return { job, worker };
}

/** A `<job-list>` of the user's active jobs, taken off the page after the test. */
async function list(user: TestUser, attributes: Record<string, string> = {}): Promise<JobList> {
  const element = document.createElement('job-list');
  for (const [name, value] of Object.entries(attributes)) element.setAttribute(name, value);
  element.client = user.client;
  document.body.append(element);
  mounted.push({ element });
  await element.updateComplete;
  return element;
}

const live = (user: TestUser) =>
  eventually(() => user.client.$connection.get().state === 'live', 8000, 'the connection to the server');

const cardIn = (element: Element, job: Job) =>
  (element.shadowRoot as ShadowRoot).querySelector<HTMLElement>(`.card[data-job-id="${job.id}"]`);
const stallNotice = (element: Element, job: Job) => cardIn(element, job)?.querySelector('[part~="stall"]');

/** Waits until `element` shows `job` stalled: the notice, the stalled card, the paused bar. */
async function showsStalled(element: Element, job: Job, what: string) {
  const notice = await eventually(() => stallNotice(element, job), 8000, `${what}: the stall notice`);
  assert(
    /^No update for \d+ sec$/.test(text(notice) ?? ''),
    `${what}: "No update for 1 sec", not "${text(notice)}"`,
  );
  const shown = cardIn(element, job) as HTMLElement;
  assert(shown.classList.contains('stalled'), `${what}: the card has the stalled look`);
  const fill = getComputedStyle(shown.querySelector('[part~="progress-indicator"]') as Element);
  assertEqual(
    [fill.backgroundColor, fill.animationPlayState],
    [getComputedStyle(notice as Element).color, 'paused'],
    `${what}: the bar is paused, in the notice's warning color`,
  );
  assertEqual(text(shown.querySelector('[part~="percent"]')), '20%', `${what}: the progress stays shown`);
}

/** What was said of the job's stalls and recoveries (its milestones aside). */
const aboutJob = (said: string[]) =>
  said.filter((line) => STALL_LINE.test(line) || line === RESUME_LINE || /no update|again/.test(line));

/**
 * A stall is said once per stall, whatever the ticks in between: the lines alternate, a stall first
 * (a machine slow enough between claim and report may have shown one stall and recovery before).
 */
function assertAlternating(lines: string[], what: string) {
  lines.forEach((line, index) => {
    if (index % 2 === 0)
      assert(STALL_LINE.test(line), `${what}: a stall at ${index}, not "${line}" (${lines.join(' | ')})`);
    else assertEqual(line, RESUME_LINE, `${what}: a recovery at ${index} (${lines.join(' | ')})`);
  });
}

/** Reports the same progress every 200 ms, as a live host does: each refreshes `updatedAt` once half of `staleAfterMs` passed. */
function heartbeat(worker: Awaited<ReturnType<typeof claimJob>>) {
  let beating = true;
  const done = (async () => {
    while (beating) {
      await worker.progress(40, 'Checking figures');
      await delay(200);
    }
  })();
  return async () => {
    beating = false;
    await done;
  };
}

describe('stalls', () => {
  it('<job-tracker> (and a <job-list> beside it) shows a stalled job, says it once, and clears it with the next update', async function (this: {
    timeout(ms: number): void;
  }) {
    this.timeout(30_000);
    const user = await testUser('stalls-tracker');
    const tracker = await mount(user.client);
    const beside = await list(user);
    await live(user);
    const said = recordAnnouncements(root(tracker), beside.shadowRoot as ShadowRoot);
    const { job, worker } = await stallingJob(user, 'tracker');

    await showsStalled(tracker, job, 'the tracker');
    await showsStalled(beside, job, 'the list');
    await eventually(() => aboutJob(said).some((line) => STALL_LINE.test(line)), 5000, 'the stall said');
    const first = text(stallNotice(tracker, job)) ?? '';
    // Quiet for a few more seconds: the notice counts on, nothing more is said.
    await delay(2500);
    assert(text(stallNotice(tracker, job)) !== first, `the notice counts on from "${first}"`);
    const quiet = aboutJob(said);
    assertAlternating(quiet, 'while stalled');
    assert(quiet.length % 2 === 1, `said once, by the tracker only (${quiet.join(' | ')})`);
    await checkAccessibility(tracker);
    await checkAccessibility(beside);

    const stop = heartbeat(worker);
    try {
      await eventually(
        () => !stallNotice(tracker, job) && !stallNotice(beside, job),
        8000,
        'the stall to clear with the next update',
      );
      const again = cardIn(tracker, job) as HTMLElement;
      assert(!again.classList.contains('stalled'), 'the card has its usual look again');
      assertEqual(text(again.querySelector('[part="percent"]')), '40%', 'the new progress');
      await eventually(() => aboutJob(said).at(-1) === RESUME_LINE, 5000, '"updates again" said');
    } finally {
      await stop();
    }
    assertAlternating(aboutJob(said), 'after the update');
  });

  it('<job-list> alone shows a stalled job and says it once, politely, then "updates again"', async function (this: {
    timeout(ms: number): void;
  }) {
    this.timeout(30_000);
    const user = await testUser('stalls-list');
    const element = await list(user);
    await live(user);
    const said = recordAnnouncements(element.shadowRoot as ShadowRoot);
    const { job, worker } = await stallingJob(user, 'list');

    await showsStalled(element, job, 'the list');
    await eventually(() => aboutJob(said).some((line) => STALL_LINE.test(line)), 5000, 'the stall said');
    await delay(2500);
    const quiet = aboutJob(said);
    assertAlternating(quiet, 'while stalled');
    assert(quiet.length % 2 === 1, `said once while stalled (${quiet.join(' | ')})`);
    await checkAccessibility(element);

    const stop = heartbeat(worker);
    try {
      await eventually(() => !stallNotice(element, job), 8000, 'the stall to clear');
      await eventually(() => aboutJob(said).at(-1) === RESUME_LINE, 5000, '"updates again" said');
    } finally {
      await stop();
    }
    assertAlternating(aboutJob(said), 'after the update');
  });

  it('shows the stall in the page language, the duration from Intl', async () => {
    const user = await testUser('stalls-de');
    const holder = document.createElement('div');
    holder.lang = 'de';
    document.body.append(holder);
    mounted.push({ element: holder });
    const element = document.createElement('job-list');
    element.client = user.client;
    holder.append(element);
    await live(user);
    const { job } = await stallingJob(user, 'de');
    const notice = await eventually(() => stallNotice(element, job), 8000, 'the stall notice');
    assert(/^Seit \d+ Sek\. keine Aktualisierung$/.test(text(notice) ?? ''), `German, not "${text(notice)}"`);
  });

  it('never shows a stall for a job without staleAfterMs', async () => {
    const user = await testUser('stalls-none');
    const tracker = await mount(user.client);
    await live(user);
    const type = `stalls.none.${crypto.randomUUID().slice(0, 8)}`;
    const job = await user.create({ type, title: TITLE, dedupe: false });
    await (await claimJob(type)).progress(20, 'Writing sections');
    await eventually(
      () => text(card(tracker, job.id)?.querySelector('[part="percent"]')) === '20%',
      8000,
      'the card',
    );
    await delay(MIN_STALE_AFTER_MS + 1500);
    assert(!stallNotice(tracker, job), 'no stall notice');
  });
});
