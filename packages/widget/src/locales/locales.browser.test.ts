/// <reference types="@jobtracker/test-support/mocha" />
// Each shipped locale, from the user's side: every element in every state under `lang=<locale>` shows no
// English (the job's own text aside), the nearest `lang` picks the locale, and `dir="rtl"` mirrors the layout.
import type { Job, JobClient } from '@jobtracker/sdk';
import { JobBadge } from '../job-badge/job-badge.js';
import { JobButton } from '../job-button/job-button.js';
import { JobList } from '../job-list/job-list.js';
import { JobTracker } from '../job-tracker/job-tracker.js';
import { defineElement } from '../shared/define.js';
import { registerJobLocale } from '../shared/locale.js';
import { defaultMessages, type JobMessages, type StartFailureKind } from '../shared/messages.js';
import {
  assert,
  assertEqual,
  checkAccessibility,
  claimJob,
  delay,
  disconnectTestClients,
  eventually,
  streamsClosed,
  testUser,
} from '../testing/widget-env.js';
import { ar } from './ar.js';
import { de } from './de.js';
import { es } from './es.js';
import { fr } from './fr.js';
import { ja } from './ja.js';
import { ptBR } from './pt-BR.js';
import { zhCN } from './zh-CN.js';

defineElement('job-tracker', JobTracker);
defineElement('job-badge', JobBadge);
defineElement('job-list', JobList);
defineElement('job-button', JobButton);

const LOCALES: Record<string, JobMessages> = {
  de,
  fr,
  es,
  'pt-BR': ptBR,
  ja,
  'zh-CN': zhCN,
  ar,
};
for (const [locale, messages] of Object.entries(LOCALES)) registerJobLocale(locale, messages);

const holders: HTMLElement[] = [];
afterEach(async () => {
  for (const holder of holders.splice(0)) holder.remove();
  disconnectTestClients();
  await streamsClosed();
});

/** The text a job brings itself (title, error): it stays as the job gave it. */
const JOB_TITLE = 'Q3';
const JOB_ERROR = 'E-42';

/**
 * The English words the elements can show: every word of every default message (called with sample
 * values), and what `Intl` writes in English for durations and ages. A message added later is covered too.
 */
function englishWords(): Set<string> {
  const job = { title: JOB_TITLE } as Job;
  const samples: Record<string, unknown[]> = {
    jobsRunning: [2],
    badge: [2],
    badgeLabel: [2],
    percent: [40],
    elapsed: ['1'],
    remaining: ['1'],
    completedTitle: [job, JOB_TITLE],
    failedTitle: [job, JOB_TITLE],
    cancelledTitle: [job, JOB_TITLE],
    reachedPercent: [JOB_TITLE, '50'],
    stalled: ['1'],
    announceStalled: [JOB_TITLE, '1'],
    announceResumed: [JOB_TITLE],
    lastUpdated: ['1'],
    buttonProgress: ['40'],
    startFailed: [JOB_ERROR],
    startFailureReason: ['unreachable'],
    actionFailed: ['cancel'],
  };
  const texts = Object.entries(defaultMessages).map(([key, value]) =>
    typeof value === 'function' ? String(value(...(samples[key] ?? [1]))) : String(value),
  );
  texts.push(defaultMessages.actionFailed('retry'), defaultMessages.jobsRunning(1));
  texts.push(...START_FAILURES.map((kind) => defaultMessages.startFailureReason(kind)));
  texts.push('sec secs second seconds hr hrs hour hours ago now');
  const words = new Set<string>();
  for (const text of texts)
    for (const word of text.match(/[A-Za-z]{3,}/g) ?? [])
      if (word !== JOB_TITLE) words.add(word.toLowerCase());
  return words;
}

/** Every kind of reason `<job-button>` gives for a start that failed. */
const START_FAILURES: StartFailureKind[] = ['unreachable', 'busy', 'signedOut', 'unavailable', 'refused'];

/** Words that English shares with a locale, spelled alike in it. */
const SHARED_WORDS: Record<string, string[]> = {
  de: ['min', 'start', 'server'],
  fr: ['min', 'session', 'service'],
  es: ['min'],
  'pt-BR': ['min'],
};

/** Every text an element shows or gives assistive technology: its shadow root's text and labels. */
function shownTexts(element: Element): string[] {
  const root = element.shadowRoot;
  if (!root) return [];
  const texts: string[] = [];
  const walker = document.createTreeWalker(root, NodeFilter.SHOW_TEXT | NodeFilter.SHOW_ELEMENT);
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    if (node instanceof Text) {
      if (node.parentElement?.localName !== 'style' && node.data.trim()) texts.push(node.data.trim());
    } else if (node instanceof Element) {
      for (const name of ['aria-label', 'aria-valuetext', 'title', 'alt'])
        if (node.getAttribute(name)) texts.push(node.getAttribute(name) as string);
    }
  }
  return texts;
}

/** The English words among `texts`, the job's own text taken out. */
function englishIn(texts: string[], locale: string): string[] {
  const english = englishWords();
  for (const shared of SHARED_WORDS[locale] ?? []) english.delete(shared);
  return texts.flatMap((text) =>
    (
      text
        .replaceAll(JOB_TITLE, ' ')
        .replaceAll(JOB_ERROR, ' ')
        .match(/[A-Za-z]{3,}/g) ?? []
    )
      .filter((word) => english.has(word.toLowerCase()))
      .map((word) => `"${word}" in "${text}"`),
  );
}

function setClient<T extends HTMLElement & { client: JobClient | undefined }>(element: T, client: JobClient) {
  element.client = client;
  return element;
}

/** A holder with `attributes` (lang, dir), on the page until the test ends. */
function holder(attributes: Record<string, string>, markup: string): HTMLElement {
  const element = document.createElement('div');
  for (const [name, value] of Object.entries(attributes)) element.setAttribute(name, value);
  element.innerHTML = markup;
  document.body.append(element);
  holders.push(element);
  return element;
}

/** Creates a job of a type of its own as the user; `claim` runs it as the worker. */
async function job(user: Awaited<ReturnType<typeof testUser>>, name: string) {
  const type = `i18n.${name}.${crypto.randomUUID().slice(0, 8)}`;
  const created = await user.create({ type, title: JOB_TITLE, dedupe: false });
  return { type, job: created, claim: () => claimJob(type) };
}

/**
 * Every element in every state under `attributes`: a running job with progress and an estimate, a job
 * waiting to start, a completed one (toast), a failed one (error and Retry), a cancelled one (in the list),
 * the badge's count, an empty list, and a button whose job runs.
 */
async function everyState(attributes: Record<string, string>) {
  const user = await testUser('i18n');
  const running = await job(user, 'running');
  const runningWorker = await running.claim();
  await runningWorker.progress(40);
  await job(user, 'waiting');
  const completing = await job(user, 'completing');
  const completingWorker = await completing.claim();
  const failing = await job(user, 'failing');
  const failingWorker = await failing.claim();
  const cancelled = await job(user, 'cancelled');
  await user.client.cancel(cancelled.job.id);

  const page = holder(
    attributes,
    `<job-badge></job-badge>
    <job-list status="active,completed,failed,cancelled"></job-list>
    <job-list type="i18n.none" class="empty"></job-list>
    <job-button type="${running.type}"><button type="button">${JOB_TITLE}</button></job-button>
    <job-tracker notify></job-tracker>`,
  );
  const tracker = setClient(page.querySelector('job-tracker') as JobTracker, user.client);
  const badge = setClient(page.querySelector('job-badge') as JobBadge, user.client);
  const [list, emptyList] = [...page.querySelectorAll('job-list')].map((element) =>
    setClient(element as JobList, user.client),
  ) as [JobList, JobList];
  const button = setClient(page.querySelector('job-button') as JobButton, user.client);
  const trackerRoot = tracker.shadowRoot as ShadowRoot;

  await eventually(
    () => trackerRoot.querySelector(`[data-job-id="${running.job.id}"] [part="percent"]`),
    8000,
    'the running card',
  );
  await completingWorker.complete({ summary: null });
  await failingWorker.fail(JOB_ERROR);
  await eventually(() => trackerRoot.querySelector('[part="toast"]'), 8000, 'the completion toast');
  await eventually(
    () => trackerRoot.querySelector(`[data-job-id="${failing.job.id}"] [part="retry-button"]`),
    8000,
    'the failed card with Retry',
  );
  await eventually(
    () => list.shadowRoot?.querySelector(`[data-job-id="${cancelled.job.id}"]`),
    8000,
    'the cancelled job in the list',
  );
  await eventually(
    () =>
      trackerRoot
        .querySelector(`[data-job-id="${running.job.id}"] [part="timing"]`)
        ?.textContent?.includes('·'),
    8000,
    'the estimate of what is left',
  );
  await eventually(() => badge.getAttribute('count') === '2', 5000, 'the badge to count the active jobs');
  await eventually(() => button.job, 5000, 'the button to follow its running job');
  await eventually(() => emptyList.shadowRoot?.querySelector('[part="empty"]'), 5000, 'the empty list');
  return { user, page, tracker, badge, list, emptyList, button, running, failing };
}

describe('locales', () => {
  for (const [locale, messages] of Object.entries(LOCALES)) {
    it(`${locale}: every element in every state shows no English`, async () => {
      const { user, tracker, badge, list, emptyList, button } = await everyState({ lang: locale });
      await button.updateComplete;
      const texts = [tracker, badge, list, emptyList, button].flatMap(shownTexts);
      const cancel = tracker.shadowRoot?.querySelector('[part="cancel-button"]')?.textContent?.trim();
      assertEqual(cancel, messages.cancel, `the ${locale} Cancel`);
      const found = englishIn(texts, locale);
      assertEqual(found, [], `English left under lang="${locale}" (all texts: ${texts.join(' | ')})`);
      // The notice of a lost connection.
      user.network.down();
      const notice = await eventually(
        () => tracker.shadowRoot?.querySelector('[part="connection"]')?.textContent,
        5000,
        'the connection notice',
      );
      assertEqual(englishIn([notice], locale), [], `English in the connection notice under lang="${locale}"`);
      assert(notice.trim().startsWith(messages.reconnecting), `the ${locale} notice, not "${notice}"`);
      // Why a start failed: each reason <job-button> can give.
      const reasons = START_FAILURES.map((kind) => messages.startFailed(messages.startFailureReason(kind)));
      assertEqual(englishIn(reasons, locale), [], `English in the start failures under lang="${locale}"`);
      // The collapsed pill has strings of its own.
      tracker.collapsed = true;
      await tracker.updateComplete;
      assertEqual(englishIn(shownTexts(tracker), locale), [], `English in the pill under lang="${locale}"`);
    });
  }

  it('takes the nearest lang: a region or script falls back to the language, an unknown one to English', async () => {
    const user = await testUser('i18n-lang');
    const running = await job(user, 'lang');
    await (await running.claim()).progress(10);
    const cases: [attributes: Record<string, string>, expected: string][] = [
      [{ lang: 'de-AT' }, de.badgeLabel(1)],
      [{ lang: 'pt' }, ptBR.badgeLabel(1)],
      [{ lang: 'zh' }, zhCN.badgeLabel(1)],
      [{ lang: 'zh-Hans' }, zhCN.badgeLabel(1)],
      [{ lang: 'FR-ca' }, fr.badgeLabel(1)],
      [{ lang: 'ko' }, defaultMessages.badgeLabel(1)],
      [{ lang: 'zh-TW' }, defaultMessages.badgeLabel(1)],
      [{ lang: 'en_US' }, defaultMessages.badgeLabel(1)],
    ];
    const badges = cases.map(([attributes]) =>
      setClient(
        holder(attributes, '<job-badge></job-badge>').querySelector('job-badge') as JobBadge,
        user.client,
      ),
    );
    // The closest ancestor with lang wins over one further up.
    const nested = holder({ lang: 'ja' }, '<section lang="es"><p><job-badge></job-badge></p></section>');
    badges.push(setClient(nested.querySelector('job-badge') as JobBadge, user.client));
    cases.push([{}, es.badgeLabel(1)]);
    const label = (badge: JobBadge) => badge.shadowRoot?.querySelector('[role="status"]')?.textContent;
    await eventually(() => badges.every((badge) => label(badge)), 8000, 'every badge to count the job');
    assertEqual(
      badges.map(label),
      cases.map(([, expected]) => expected),
      'each badge in the language of its nearest lang',
    );
  });

  it('follows <html lang> when no ancestor has one, and a change of it', async () => {
    const user = await testUser('i18n-html');
    const running = await job(user, 'html');
    await (await running.claim()).progress(10);
    const html = document.documentElement;
    const before = html.getAttribute('lang');
    try {
      html.setAttribute('lang', 'fr');
      const badge = setClient(
        holder({}, '<job-badge></job-badge>').querySelector('job-badge') as JobBadge,
        user.client,
      );
      const label = () => badge.shadowRoot?.querySelector('[role="status"]')?.textContent;
      await eventually(() => label() === fr.badgeLabel(1), 8000, 'the badge in French');
      html.setAttribute('lang', 'ja');
      await eventually(
        () => label() === ja.badgeLabel(1),
        3000,
        'the badge in Japanese after <html lang> changed',
      );
    } finally {
      if (before === null) html.removeAttribute('lang');
      else html.setAttribute('lang', before);
    }
  });

  it('formats numbers and durations with Intl in the locale', async () => {
    const { tracker, running } = await everyState({ lang: 'de' });
    const card = tracker.shadowRoot?.querySelector(`[data-job-id="${running.job.id}"]`);
    assertEqual(
      card?.querySelector('[part="percent"]')?.textContent,
      '40\u00a0%',
      'the German percentage (with a no-break space)',
    );
    const timing = card?.querySelector('[part="timing"]')?.textContent ?? '';
    assert(/\d+ Sek\./.test(timing) && timing.includes('noch etwa'), `German durations, not "${timing}"`);
  });

  it('mirrors the layout under dir="rtl"', async () => {
    const { tracker, failing, running } = await everyState({ dir: 'rtl', lang: 'ar' });
    const root = tracker.shadowRoot as ShadowRoot;
    const panel = root.querySelector('[part="panel"]')?.getBoundingClientRect();
    assert(panel, 'the panel');
    const width = document.documentElement.clientWidth;
    assert(
      Math.abs(panel.left - 16) <= 1 && width - panel.right > 100,
      `the panel sits in the bottom-left corner (the end side), not at x ${panel.left}–${panel.right} of ${width}`,
    );
    const bar = root
      .querySelector(`[data-job-id="${running.job.id}"] [part="progress"]`)
      ?.getBoundingClientRect();
    const fill = root
      .querySelector(`[data-job-id="${running.job.id}"] [part="progress-indicator"]`)
      ?.getBoundingClientRect();
    assert(bar && fill, 'the progress bar');
    await delay(500); // the fill's transition
    const filled = root
      .querySelector(`[data-job-id="${running.job.id}"] [part="progress-indicator"]`)
      ?.getBoundingClientRect();
    assert(
      filled && Math.abs(filled.right - bar.right) <= 1 && filled.left - bar.left > bar.width / 2,
      `the bar fills from the right (bar ${bar.left}–${bar.right}, fill ${filled?.left}–${filled?.right})`,
    );
    const failedCard = root.querySelector(`[data-job-id="${failing.job.id}"].card`) as HTMLElement;
    const style = getComputedStyle(failedCard);
    assertEqual(
      [style.borderRightWidth, style.borderLeftWidth === style.borderRightWidth],
      ['4px', false],
      'the failed card has its accent on the right (the start side)',
    );
    const toast = root.querySelector('[part="toast"]') as HTMLElement;
    assertEqual(getComputedStyle(toast).borderRightWidth, '4px', 'the toast has its accent on the right');
    await checkAccessibility(tracker);
    tracker.collapsed = true;
    await tracker.updateComplete;
    const pill = root.querySelector('[part="pill"]')?.getBoundingClientRect();
    assert(pill && Math.abs(pill.left - 16) <= 1, `the pill sits on the left, not at x ${pill?.left}`);
    await checkAccessibility(tracker);
  });
});
