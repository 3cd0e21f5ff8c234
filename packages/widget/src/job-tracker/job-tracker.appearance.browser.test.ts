/// <reference types="@jobtracker/test-support/mocha" />
import { emulateMedia, setViewport } from '@web/test-runner-commands';
import { button, card, mount, mounted, root, setUpTrackerTests, text, toasts } from '../testing/tracker.js';
import {
  assert,
  assertEqual,
  checkAccessibility,
  claimJob,
  eventually,
  testUser,
} from '../testing/widget-env.js';
import type { JobTracker } from './job-tracker.js';

setUpTrackerTests();

describe('<job-tracker>', () => {
  it('follows the color scheme, and a theme attribute forces one', async () => {
    const { client } = await testUser('theme');
    const tracker = await mount(client);
    const bg = () => getComputedStyle(tracker).getPropertyValue('--jt-bg').trim();
    try {
      await emulateMedia({ colorScheme: 'light' });
      assertEqual(bg(), '#ffffff', 'light by default');
      await emulateMedia({ colorScheme: 'dark' });
      assertEqual(bg(), '#1c2128', 'dark when the system is dark');
      tracker.setAttribute('theme', 'light');
      assertEqual(bg(), '#ffffff', 'theme="light" wins over a dark system');
      await emulateMedia({ colorScheme: 'light' });
      tracker.setAttribute('theme', 'dark');
      assertEqual(bg(), '#1c2128', 'theme="dark" wins over a light system');
    } finally {
      await emulateMedia({ colorScheme: 'light' });
    }
  });

  it('places the panel and the pill in the corner its position attribute names', async () => {
    const { client, create } = await testUser('position');
    const tracker = await mount(client);
    assertEqual(tracker.getAttribute('position'), 'bottom-right', 'bottom-right by default');
    const job = await create({ type: 'tracker.position', title: 'Corner' });
    await eventually(() => card(tracker, job.id), 5000, 'the card');
    const width = document.documentElement.clientWidth;
    const height = document.documentElement.clientHeight;
    const margin = 16; // 1rem
    for (const position of ['bottom-right', 'bottom-left', 'top-right', 'top-left']) {
      tracker.setAttribute('position', position);
      const [vertical, horizontal] = position.split('-');
      for (const part of ['panel', 'pill']) {
        tracker.collapsed = part === 'pill';
        await tracker.updateComplete;
        const box = root(tracker).querySelector(`[part="${part}"]`)?.getBoundingClientRect();
        assert(box && box.width > 0 && box.height > 0, `${position}: the ${part} is shown`);
        const fromTop = vertical === 'top' ? box.top : height - box.bottom;
        const fromSide = horizontal === 'left' ? box.left : width - box.right;
        assert(
          Math.abs(fromTop - margin) <= 1 && Math.abs(fromSide - margin) <= 1,
          `${position}: the ${part} sits ${margin}px from the ${vertical} and ${horizontal} edges, not ${fromTop}px and ${fromSide}px`,
        );
      }
    }
    await client.cancel(job.id);
  });

  it('starts collapsed on a small screen, and expanded on a wide one', async () => {
    const { client, create } = await testUser('small');
    const wide = { width: window.innerWidth, height: window.innerHeight };
    const job = await create({ type: 'tracker.small', title: 'Small screen' });
    try {
      await setViewport({ width: 400, height: 700 });
      await eventually(() => matchMedia('(max-width: 480px)').matches, 2000, 'a small viewport');
      const small = await mount(client);
      const pill = await eventually(() => button(root(small), 'pill'), 5000, 'the pill');
      assert(small.collapsed && small.hasAttribute('collapsed'), 'collapsed (and reflected)');
      assertEqual(root(small).querySelector('[part="panel"]'), null, 'no panel');
      assertEqual(text(pill), '1 job running Show jobs', 'the pill says what runs');
      assertEqual(pill.getAttribute('aria-expanded'), 'false', 'the pill is a collapsed disclosure');
      await checkAccessibility(small);
    } finally {
      await setViewport(wide);
    }
    const large = await mount(client);
    await eventually(() => root(large).querySelector('[part="panel"]'), 5000, 'the panel on a wide screen');
    assertEqual(large.collapsed, false, 'expanded on a wide screen');
    await client.cancel(job.id);
  });

  it('takes --job-* custom properties (on the element or any ancestor) and ::part() rules from the page', async () => {
    const { client, create } = await testUser('theming');
    const style = document.createElement('style');
    style.textContent = `
      job-tracker.branded { --job-accent: rgb(1, 2, 3); --job-radius: 3px; }
      job-tracker.branded::part(card) { outline: 3px solid rgb(4, 5, 6); }
      job-tracker.branded::part(toggle) { background-color: rgb(7, 8, 9); }
    `;
    document.head.append(style);
    mounted.push({ element: style });
    const branded = await mount(client, { class: 'branded' });
    const plain = await mount(client);
    const section = document.createElement('section');
    section.style.setProperty('--job-accent', 'rgb(10, 11, 12)');
    document.body.append(section);
    mounted.push({ element: section });
    const inherited = await mount(client);
    section.append(inherited);
    const job = await create({ type: 'tracker.theming' });
    const worker = await claimJob('tracker.theming');
    await worker.progress(50, 'Half');
    // The computed styles of a tracker's card, its progress bar and its collapse toggle.
    const parts = (tracker: JobTracker) =>
      eventually(
        () => {
          const shown = card(tracker, job.id);
          const fill = shown?.querySelector('[part="progress-indicator"]');
          const toggle = button(root(tracker), 'toggle') as HTMLElement;
          return shown && fill
            ? {
                shown: getComputedStyle(shown),
                fill: getComputedStyle(fill),
                toggle: getComputedStyle(toggle),
              }
            : null;
        },
        5000,
        'the card with its bar',
      );
    const ours = await parts(branded);
    assertEqual(ours.fill.backgroundColor, 'rgb(1, 2, 3)', '--job-accent colors the bar');
    assertEqual(ours.shown.borderTopLeftRadius, '3px', '--job-radius rounds the card');
    assertEqual(ours.shown.outlineColor, 'rgb(4, 5, 6)', '::part(card) styles the card');
    assertEqual(ours.shown.outlineWidth, '3px', '::part(card) outline width');
    assertEqual(ours.toggle.backgroundColor, 'rgb(7, 8, 9)', '::part(toggle)');
    const theirs = await parts(plain);
    assertEqual(theirs.fill.backgroundColor, 'rgb(9, 105, 218)', 'the default accent elsewhere');
    assertEqual(theirs.shown.outlineStyle, 'none', 'no outline elsewhere');
    const below = await parts(inherited);
    assertEqual(
      below.fill.backgroundColor,
      'rgb(10, 11, 12)',
      'a --job-* value set on an ancestor reaches inside',
    );
    await worker.complete(null);
  });

  it('fills the progress bar from the inline start: the left edge, the right one in a right-to-left page', async () => {
    const { client, create } = await testUser('bar-direction');
    const tracker = await mount(client);
    const running = await create({ type: 'tracker.direction', title: 'Running' });
    const worker = await claimJob('tracker.direction');
    await worker.progress(40, 'Going');
    await emulateMedia({ reducedMotion: 'reduce' });
    try {
      const bar = await eventually(
        () =>
          card(tracker, running.id)?.querySelector<HTMLElement>('[part="progress"]:not(.indeterminate)') ??
          null,
        5000,
        'the bar',
      );
      const fill = bar.querySelector('.fill') as HTMLElement;
      const measure = () => {
        const [outer, inner] = [bar.getBoundingClientRect(), fill.getBoundingClientRect()];
        return {
          share: Math.round((inner.width / outer.width) * 100),
          fromLeft: Math.round(inner.left - outer.left),
          fromRight: Math.round(outer.right - inner.right),
        };
      };
      const ltr = await eventually(() => (measure().share === 40 ? measure() : null), 5000, '40% filled');
      assertEqual(ltr.fromLeft, 0, 'left to right: the fill starts at the left edge');
      document.documentElement.dir = 'rtl';
      await tracker.updateComplete;
      const rtl = measure();
      assertEqual(rtl.share, 40, 'right to left: still 40% filled');
      assertEqual(rtl.fromRight, 0, 'right to left: the fill starts at the right edge');
    } finally {
      document.documentElement.dir = '';
      await emulateMedia({ reducedMotion: 'no-preference' });
      await worker.complete(null);
    }
  });

  it('has no animation or transition when the user prefers reduced motion', async () => {
    const { client, create } = await testUser('motion');
    const tracker = await mount(client);
    const waiting = await create({ type: 'tracker.motion-wait', title: 'Queued' });
    const running = await create({ type: 'tracker.motion-run', title: 'Running' });
    const worker = await claimJob('tracker.motion-run');
    await worker.progress(40, 'Going');
    const fills = await eventually(
      () => {
        const determinate = card(tracker, running.id)?.querySelector(
          '[part="progress"]:not(.indeterminate) .fill',
        );
        const indeterminate = card(tracker, waiting.id)?.querySelector(
          '[part="progress"].indeterminate .fill',
        );
        return determinate && indeterminate ? { determinate, indeterminate } : null;
      },
      5000,
      'both bars',
    );
    await create({ type: 'tracker.motion-done', title: 'Done' });
    const done = await claimJob('tracker.motion-done');
    await done.complete({ summary: 'Ready' });
    const [toast] = await eventually(
      () => (toasts(tracker).length > 0 ? toasts(tracker) : null),
      5000,
      'a toast',
    );
    const moving = (element: Element) => {
      const style = getComputedStyle(element);
      const durations = [...style.transitionDuration.split(','), ...style.animationDuration.split(',')];
      return style.animationName !== 'none' || durations.some((value) => Number.parseFloat(value) > 0);
    };
    try {
      await emulateMedia({ reducedMotion: 'no-preference' });
      assert(moving(fills.determinate), 'the bar eases to its new width by default');
      assert(moving(fills.indeterminate), 'the indeterminate bar slides by default');
      await emulateMedia({ reducedMotion: 'reduce' });
      assert(!moving(fills.determinate), 'no transition of the bar under reduced motion');
      assert(!moving(fills.indeterminate), 'no sliding bar under reduced motion');
      assert(!moving(toast as HTMLElement), 'no animated toast under reduced motion');
      tracker.collapsed = true;
      await tracker.updateComplete;
      const spinner = root(tracker).querySelector('.pill .spinner');
      assert(spinner, 'the pill has its spinner');
      assert(!moving(spinner), 'no spinning under reduced motion');
      await emulateMedia({ reducedMotion: 'no-preference' });
      assert(moving(spinner), 'the spinner spins by default');
    } finally {
      await emulateMedia({ reducedMotion: 'no-preference' });
    }
    await Promise.all([client.cancel(waiting.id), worker.complete(null)]);
  });
});
