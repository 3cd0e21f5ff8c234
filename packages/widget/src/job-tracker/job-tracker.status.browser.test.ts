/// <reference types="@jobtracker/test-support/mocha" />
import { createJobClient, type Job } from '@jobtracker/sdk';
import {
  button,
  card,
  mount,
  notice,
  press,
  root,
  setUpTrackerTests,
  text,
  toasts,
} from '../testing/tracker.js';
import {
  assert,
  assertEqual,
  checkAccessibility,
  claimJob,
  delay,
  eventually,
  testUser,
} from '../testing/widget-env.js';

setUpTrackerTests();

describe('<job-tracker>', () => {
  it('says when updates are delayed, and shows the stored jobs meanwhile', async () => {
    const storage = new Map<string, string>();
    const running: Job = {
      id: '01m8k0x60974smd8gnmwwmw5zz',
      type: 'tracker.offline',
      scope: null,
      title: 'Cached job',
      status: 'running',
      progress: 30,
      message: 'Working',
      result: null,
      error: null,
      attempt: 1,
      maxAttempts: 3,
      retryOf: null,
      version: 3,
      createdAt: new Date().toISOString(),
      startedAt: new Date().toISOString(),
      updatedAt: new Date().toISOString(),
      completedAt: null,
      dismissedAt: null,
    };
    const baseUrl = 'http://127.0.0.1:9/api';
    storage.set(`jobtracker:${baseUrl}:offline`, JSON.stringify({ v: 1, cursor: '5', jobs: [running] }));
    const client = createJobClient({
      baseUrl,
      user: 'offline',
      shareTabs: false,
      storage: {
        getItem: (key) => storage.get(key) ?? null,
        setItem: (key, value) => void storage.set(key, value),
        removeItem: (key) => void storage.delete(key),
      },
    });
    const tracker = await mount(client);
    await eventually(() => card(tracker, running.id), 3000, 'the stored job');
    const shown = await eventually(() => notice(tracker), 5000, 'the notice');
    assert(shown.textContent?.includes('Reconnecting'), 'says it is reconnecting');
    await checkAccessibility(tracker);
  });

  it('shows the elapsed time at once, and an estimate of what is left once progress tells enough', async () => {
    const { client, create } = await testUser('timing');
    const tracker = await mount(client);
    const job = await create({ type: 'tracker.timing', title: 'Slow job' });
    const worker = await claimJob('tracker.timing');
    await worker.progress(10, 'Step 1');
    const timing = () => text(card(tracker, job.id)?.querySelector('[part="timing"]')) ?? '';
    const seconds = (value: number) =>
      new Intl.NumberFormat('en', { style: 'unit', unit: 'second', unitDisplay: 'short' }).format(value);
    const parse = () => {
      const match = /^(\d+) sec elapsed(?: · about (\d+) sec left)?$/.exec(timing());
      assert(match, `elapsed and left as Intl durations: "${timing()}"`);
      const [elapsed, left] = [Number(match[1]), match[2] === undefined ? null : Number(match[2])];
      assertEqual(
        timing(),
        `${seconds(elapsed)} elapsed${left === null ? '' : ` · about ${seconds(left)} left`}`,
        'formatted with Intl',
      );
      return { elapsed, left };
    };
    await eventually(timing, 5000, 'the timing');
    assertEqual(parse().left, null, 'no estimate right after the start');
    // At 10 % after three seconds the estimate is about nine times what has elapsed.
    const early = await eventually(() => (parse().left === null ? null : parse()), 6000, 'an estimate');
    assert(early.elapsed >= 3, `the estimate waits for 3 s of signal (${early.elapsed} s)`);
    assert(
      Math.abs((early.left ?? 0) - early.elapsed * 9) <= 9,
      `about 9 × ${early.elapsed} s left at 10 %, not ${early.left} s`,
    );
    await worker.progress(60, 'Step 2');
    const later = await eventually(
      () => ((parse().left ?? Number.POSITIVE_INFINITY) < (early.left ?? 0) / 3 ? parse() : null),
      5000,
      'the estimate to shrink as progress rises',
    );
    assert(
      Math.abs((later.left ?? 0) - (later.elapsed * 40) / 60) <= 1.5,
      `about ${later.elapsed} × 40/60 s left at 60 %, not ${later.left} s`,
    );
    await worker.complete(null);
  });

  it('counts the elapsed time and the estimate from the current attempt once the job started again (as after a restart)', async function (this: {
    timeout(ms: number): void;
  }) {
    this.timeout(20_000);
    const { client, create } = await testUser('timing-restart');
    const tracker = await mount(client);
    const job = await create({ type: 'tracker.timing-restart', title: 'Restarted job' });
    const first = await claimJob('tracker.timing-restart');
    await first.progress(40, 'First try');
    await delay(4000);
    assertEqual((await first.release()).status, 200, 'the worker gives the job back');
    await eventually(
      () => client.jobStore(job.id).get()?.status === 'pending',
      5000,
      'the job pending again',
    );
    const second = await claimJob('tracker.timing-restart');
    assertEqual(second.job.id, job.id, 'the same job, started again');
    await second.progress(25, 'Second try');
    const timing = () => text(card(tracker, job.id)?.querySelector('[part="timing"]')) ?? '';
    const parse = () => {
      const match = /^(\d+) sec elapsed(?: · about (\d+) sec left)?$/.exec(timing());
      return match
        ? { elapsed: Number(match[1]), left: match[2] === undefined ? null : Number(match[2]) }
        : null;
    };
    await eventually(
      () => client.jobStore(job.id).get()?.progress === 25 && parse(),
      5000,
      'the second attempt with its timing',
    );
    const restarted = parse();
    assert(
      restarted && restarted.elapsed <= 2,
      `elapsed from the current attempt, not the first: "${timing()}"`,
    );
    // 25 % of the current attempt done: about three times its elapsed time is left.
    const estimate = await eventually(() => (parse()?.left == null ? null : parse()), 6000, 'an estimate');
    assert(estimate && estimate.elapsed < 7, `elapsed from the current attempt: "${timing()}"`);
    assert(
      Math.abs((estimate.left ?? 0) - estimate.elapsed * 3) <= 3,
      `about 3 × ${estimate.elapsed} s left at 25 % of this attempt: "${timing()}"`,
    );
    await second.complete(null);
  });

  it('says when the last update came while the server cannot be reached, and stops once it is back', async () => {
    const { client, create, network } = await testUser('stale');
    const tracker = await mount(client);
    const job = await create({ type: 'tracker.stale', title: 'Sync' });
    await eventually(() => card(tracker, job.id), 5000, 'the card');
    await eventually(() => client.$connection.get().state === 'live', 5000, 'a live stream');
    assertEqual(notice(tracker), null, 'no notice while live');
    const seen: string[] = [];
    const observer = new MutationObserver(() => {
      const value = text(notice(tracker));
      if (value && value !== seen.at(-1)) seen.push(value);
    });
    observer.observe(root(tracker), { childList: true, characterData: true, subtree: true });
    network.down();
    const ago = (atLeast: number) =>
      eventually(
        () => {
          const match = /Last updated (\d+) seconds? ago$/.exec(text(notice(tracker)) ?? '');
          return match && Number(match[1]) >= atLeast ? Number(match[1]) : null;
        },
        4000,
        `"Last updated ${atLeast}+ seconds ago"`,
      );
    const first = await ago(1);
    await ago(first + 1);
    observer.disconnect();
    for (const said of seen) {
      assert(
        /^Reconnecting… Last updated (now|\d+ seconds? ago)$/.test(said),
        `the notice tells a past time: "${said}"`,
      );
    }
    await checkAccessibility(tracker);
    network.up();
    window.dispatchEvent(new Event('online'));
    await eventually(() => notice(tracker) === null, 5000, 'the notice to go once the server answers');
    await client.cancel(job.id);
  });

  it('takes its strings from a messages object and counts running jobs in the page title', async () => {
    const { client, create } = await testUser('i18n');
    document.title = 'Programs';
    const title = document.title;
    const tracker = await mount(client, { 'title-count': '' });
    tracker.messages = { cancel: 'Annuler', jobsRunning: (n) => `${n} tâche(s) en cours` };
    const job = await create({ type: 'tracker.i18n' });
    const shown = await eventually(() => card(tracker, job.id), 5000, 'the card');
    await tracker.updateComplete;
    assertEqual(button(shown, 'cancel-button')?.textContent, 'Annuler', 'translated button');
    assert(
      root(tracker).querySelector('[part="header"]')?.textContent?.includes('1 tâche(s) en cours'),
      'translated header',
    );
    assertEqual(document.title, `(1) ${title}`, 'count in the title');
    await client.cancel(job.id);
    await eventually(() => document.title === title, 3000, 'the title restored');
  });

  it('formats numbers and times with Intl in the language of <html lang>, with the strings of `messages`', async () => {
    const { client, create, network } = await testUser('german');
    const lang = document.documentElement.getAttribute('lang');
    document.documentElement.lang = 'de';
    try {
      const tracker = await mount(client);
      tracker.messages = {
        elapsed: (duration) => `${duration} vergangen`,
        reconnecting: 'Verbindung wird wiederhergestellt…',
        lastUpdated: (ago) => `Zuletzt aktualisiert ${ago}`,
      };
      const job = await create({ type: 'tracker.german', title: 'Bericht' });
      const worker = await claimJob('tracker.german');
      await worker.progress(42, 'Läuft');
      const percent = new Intl.NumberFormat('de', { style: 'percent' }).format(0.42);
      assert(percent !== '42%', `German has its own percent format (${percent})`);
      const shown = await eventually(
        () =>
          card(tracker, job.id)?.querySelector('[part="percent"]')?.textContent === percent
            ? card(tracker, job.id)
            : null,
        5000,
        `the percent as "${percent}"`,
      );
      assertEqual(
        shown.querySelector('[role="progressbar"]')?.getAttribute('aria-valuetext'),
        `${percent}, Läuft`,
        'the bar says it the same way',
      );
      const secondsDe = (value: number) =>
        new Intl.NumberFormat('de', { style: 'unit', unit: 'second', unitDisplay: 'short' }).format(value);
      const elapsed = text(shown.querySelector('[part="timing"]'));
      assert(
        Array.from({ length: 10 }, (_, seconds) => `${secondsDe(seconds)} vergangen`).includes(elapsed ?? ''),
        `the elapsed time in German: "${elapsed}"`,
      );
      await eventually(() => client.$connection.get().state === 'live', 5000, 'a live stream');
      network.down();
      const relative = new Intl.RelativeTimeFormat('de', { numeric: 'auto' });
      const expected = Array.from(
        { length: 6 },
        (_, seconds) =>
          `Verbindung wird wiederhergestellt… Zuletzt aktualisiert ${relative.format(-seconds, 'second')}`,
      );
      const said = await eventually(() => text(notice(tracker)), 5000, 'the notice');
      assert(expected.includes(said), `the notice in German: "${said}"`);
      network.up();
      await client.cancel(job.id);
    } finally {
      if (lang === null) document.documentElement.removeAttribute('lang');
      else document.documentElement.lang = lang;
    }
  });

  it('asks for notifications only from a click, and notifies a completion once, only while the page is hidden', async () => {
    const { client, create } = await testUser('notify');
    const asked: boolean[] = [];
    const raised: { title: string; options: NotificationOptions | undefined }[] = [];
    /** Records what the element does with the Notification API (the browser's own one asks the user). */
    class RecordingNotification {
      static permission: NotificationPermission = 'default';
      static async requestPermission(): Promise<NotificationPermission> {
        asked.push(navigator.userActivation.isActive);
        RecordingNotification.permission = 'granted';
        return 'granted';
      }
      onclick: (() => void) | null = null;
      constructor(title: string, options?: NotificationOptions) {
        raised.push({ title, options });
      }
    }
    const original = Object.getOwnPropertyDescriptor(window, 'Notification');
    Object.defineProperty(window, 'Notification', {
      configurable: true,
      writable: true,
      value: RecordingNotification,
    });
    const setVisibility = (state: DocumentVisibilityState) => {
      Object.defineProperty(document, 'visibilityState', { configurable: true, get: () => state });
      document.dispatchEvent(new Event('visibilitychange'));
    };
    try {
      const tracker = await mount(client, { notify: '' });
      await create({ type: 'tracker.notify-a', title: 'Visible job' });
      const offer = await eventually(() => button(root(tracker), 'notify-button'), 5000, 'the offer');
      assertEqual(asked, [], 'no permission asked on its own');
      offer.focus();
      await press('Enter');
      await eventually(() => asked.length === 1, 2000, 'the permission asked');
      assertEqual(asked, [true], 'asked once, inside the user gesture');
      await eventually(
        () => button(root(tracker), 'notify-button') === null,
        2000,
        'the offer to go once granted',
      );

      const visible = await claimJob('tracker.notify-a');
      await visible.complete({ summary: 'Seen in the page' });
      await eventually(() => toasts(tracker).length === 1, 5000, 'the toast of a visible page');
      assertEqual(raised, [], 'no notification while the page is visible');

      setVisibility('hidden');
      const second = await create({ type: 'tracker.notify-b', title: 'Hidden job' });
      await eventually(() => client.jobStore(second.id).get(), 5000, 'the second job known');
      const hidden = await claimJob('tracker.notify-b');
      await hidden.complete({ summary: 'Ready while away', url: '/reports/9' });
      await eventually(() => raised.length > 0, 5000, 'a notification');
      await eventually(() => toasts(tracker).length === 2, 2000, 'the toast too');
      assertEqual(raised.length, 1, 'one notification');
      assertEqual(raised[0]?.title, 'Hidden job complete', 'its title');
      assertEqual(raised[0]?.options?.body, 'Ready while away', 'its body');
      assertEqual(raised[0]?.options?.tag, `jobtracker-${second.id}`, 'a tag per job');
    } finally {
      Reflect.deleteProperty(document, 'visibilityState');
      if (original) Object.defineProperty(window, 'Notification', original);
    }
  });
});
