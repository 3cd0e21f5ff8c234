/// <reference types="@jobtracker/test-support/mocha" />

import { PHONE_SCREENS } from '@jobtracker/test-support/screens';
import { executeServerCommand, setViewport } from '@web/test-runner-commands';
import { button, mount, root, setUpTrackerTests, toasts } from '../testing/tracker.js';
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

const MIN_TARGET = 44;

interface Insets {
  top: number;
  right: number;
  bottom: number;
  left: number;
}
/** What `env(safe-area-inset-*)` gives, as on a phone with a notch and a home indicator (`null`: none). */
const setSafeArea = (insets: Insets | null) => executeServerCommand('set-safe-area-insets', insets);

const viewport = () => ({
  width: document.documentElement.clientWidth,
  height: document.documentElement.clientHeight,
});

/** Fails unless `element`'s box lies inside the viewport, `inset` px clear of each of its edges. */
function assertInside(
  element: Element,
  what: string,
  inset: Insets = { top: 0, right: 0, bottom: 0, left: 0 },
) {
  const box = element.getBoundingClientRect();
  const { width, height } = viewport();
  assert(box.width > 0 && box.height > 0, `${what} is shown`);
  assert(
    box.left >= inset.left - 0.5 &&
      box.top >= inset.top - 0.5 &&
      box.right <= width - inset.right + 0.5 &&
      box.bottom <= height - inset.bottom + 0.5,
    `${what} lies inside the ${width}×${height} viewport (clear of ${JSON.stringify(inset)}): ` +
      `x ${Math.round(box.left)}–${Math.round(box.right)}, y ${Math.round(box.top)}–${Math.round(box.bottom)}`,
  );
}

/** Fails unless a tap at the centre of `target` reaches it (nothing covers it, it is on screen). */
function assertTappable(tracker: JobTracker, target: Element, what: string) {
  const box = target.getBoundingClientRect();
  assert(
    box.width >= MIN_TARGET && box.height >= MIN_TARGET,
    `${what} is a target of at least ${MIN_TARGET}×${MIN_TARGET} px, not ${Math.round(box.width)}×${Math.round(box.height)}`,
  );
  const hit = root(tracker).elementFromPoint(box.left + box.width / 2, box.top + box.height / 2);
  assert(
    hit !== null && (hit === target || target.contains(hit)),
    `a tap at the centre of ${what} reaches it`,
  );
}

function assertNoHorizontalScroll(what: string) {
  const { scrollWidth, clientWidth } = document.documentElement;
  assert(
    scrollWidth <= clientWidth,
    `${what}: the page does not scroll sideways (${scrollWidth} > ${clientWidth})`,
  );
}

/** Runs `body` at each phone screen, then restores the desktop viewport and clears any safe-area insets. */
async function atPhoneScreens(body: (screen: string, width: number) => Promise<void>) {
  const desktop = { width: window.innerWidth, height: window.innerHeight };
  try {
    for (const [width, height] of PHONE_SCREENS) {
      const screen = `${width}×${height}`;
      await setViewport({ width, height });
      await eventually(
        () => viewport().width === width && viewport().height === height,
        2000,
        `a ${screen} viewport`,
      );
      await body(screen, width);
    }
  } finally {
    await setSafeArea(null);
    await setViewport(desktop);
  }
}

const controls = (tracker: JobTracker, scope: string) => [
  ...root(tracker).querySelectorAll<HTMLElement>(`${scope} button, ${scope} a[href]`),
];

describe('<job-tracker> on a phone', () => {
  it('keeps the collapsed pill inside the viewport at 320, 360, 375 and 414 px upright and on a phone on its side, with a tap target of at least 44 px', async () => {
    const { client, create } = await testUser('phone-pill');
    const job = await create({ type: 'tracker.phone-pill', title: 'Q3 growth program' });
    await atPhoneScreens(async (screen) => {
      for (const position of ['bottom-right', 'bottom-left', 'top-right', 'top-left']) {
        const tracker = await mount(client, { position });
        const pill = await eventually(() => button(root(tracker), 'pill'), 5000, `the pill at ${screen}`);
        const what = `the ${position} pill at ${screen}`;
        assertInside(pill, what);
        assertTappable(tracker, pill, what);
        assertNoHorizontalScroll(what);
        tracker.remove();
      }
    });
    await client.cancel(job.id);
  });

  it('opens into a sheet along the bottom edge that leaves the page above it usable, and collapses again', async () => {
    const { client, create } = await testUser('phone-sheet');
    const first = await create({ type: 'tracker.phone-sheet', title: 'Q3 growth program' });
    const second = await create({ type: 'tracker.phone-sheet-risky', title: 'Risky program' });
    const page = document.createElement('button');
    page.textContent = 'Generate program';
    page.style.cssText = 'position: fixed; top: 8px; left: 8px; width: 200px; height: 44px;';
    document.body.append(page);
    try {
      await atPhoneScreens(async (screen) => {
        const tracker = await mount(client);
        const pill = await eventually(() => button(root(tracker), 'pill'), 5000, `the pill at ${screen}`);
        pill.click();
        const panel = await eventually(
          () => root(tracker).querySelector<HTMLElement>('[part="panel"]'),
          2000,
          `the panel at ${screen}`,
        );
        await eventually(() => panel.querySelectorAll('[part="card"]').length === 2, 5000, 'both cards');
        const box = panel.getBoundingClientRect();
        const { width: vw, height: vh } = viewport();
        assertInside(panel, `the open panel at ${screen}`);
        assert(
          Math.abs(box.left) <= 1 && Math.abs(vw - box.right) <= 1 && Math.abs(vh - box.bottom) <= 1,
          `at ${screen} the panel is a sheet across the bottom edge: x ${Math.round(box.left)}–${Math.round(box.right)} of ${vw}, bottom ${Math.round(box.bottom)} of ${vh}`,
        );
        assert(
          box.height <= vh * 0.6,
          `at ${screen} the sheet leaves the page above it: ${Math.round(box.height)} of ${vh} px tall`,
        );
        assertEqual(
          document.elementFromPoint(108, 30),
          page,
          `at ${screen} a tap on the page above the sheet reaches the page`,
        );
        for (const control of controls(tracker, '[part="panel"]')) {
          const what = `“${control.textContent?.trim() || control.getAttribute('aria-label')}” at ${screen}`;
          control.scrollIntoView({ block: 'nearest' });
          assertInside(control, what);
          assertTappable(tracker, control, what);
        }
        assertNoHorizontalScroll(`the open panel at ${screen}`);
        const toggle = button(root(tracker), 'toggle') as HTMLButtonElement;
        toggle.click();
        await eventually(() => button(root(tracker), 'pill'), 2000, `the sheet collapses again at ${screen}`);
        assertEqual(root(tracker).querySelector('[part="panel"]'), null, 'no sheet once collapsed');
        tracker.remove();
      });
      const tracker = await mount(client, { collapsed: '' });
      tracker.collapsed = false;
      await setViewport({ width: 375, height: 667 });
      await eventually(() => root(tracker).querySelector('[part="card"]'), 5000, 'the cards');
      await checkAccessibility(tracker);
    } finally {
      await setViewport({ width: 800, height: 600 });
      page.remove();
      await Promise.all([client.cancel(first.id), client.cancel(second.id)]);
    }
  });

  it('opens by itself when the screen it collapsed for grows, unless the user chose meanwhile', async () => {
    const { client, create } = await testUser('phone-grow');
    const job = await create({ type: 'tracker.phone-grow', title: 'Q3 growth program' });
    const desktop = { width: window.innerWidth, height: window.innerHeight };
    try {
      await setViewport({ width: 375, height: 667 });
      const left = await mount(client);
      await eventually(() => button(root(left), 'pill'), 5000, 'the pill on the phone');
      const chosen = await mount(client);
      (await eventually(() => button(root(chosen), 'pill'), 5000, 'the second pill')).click();
      await eventually(() => button(root(chosen), 'toggle'), 2000, 'the sheet the user opened');
      (button(root(chosen), 'toggle') as HTMLButtonElement).click();
      await eventually(() => button(root(chosen), 'pill'), 2000, 'the pill the user chose again');

      await setViewport({ width: 1280, height: 800 });
      await eventually(
        () => root(left).querySelector('[part="panel"]') && !button(root(left), 'pill'),
        2000,
        'the panel once the screen is a desktop’s',
      );
      assertEqual(left.collapsed, false, 'no longer collapsed');
      await new Promise((resolve) => setTimeout(resolve, 200));
      assert(button(root(chosen), 'pill'), 'the tracker the user collapsed stays collapsed');
    } finally {
      await setViewport(desktop);
      await client.cancel(job.id);
    }
  });

  it('shows a completion toast inside the viewport, above the pill, with controls of at least 44 px', async () => {
    const { client, create } = await testUser('phone-toast');
    const running = await create({ type: 'tracker.phone-toast-running', title: 'Q3 growth program' });
    await atPhoneScreens(async (screen, width) => {
      await setSafeArea({ top: 47, right: 0, bottom: 34, left: 0 });
      const tracker = await mount(client);
      const pill = await eventually(() => button(root(tracker), 'pill'), 5000, 'the pill');
      await create({ type: `tracker.phone-toast-${width}`, title: `Done at ${width}` });
      const worker = await claimJob(`tracker.phone-toast-${width}`);
      await worker.complete({ url: '/programs/1', summary: 'Ready' });
      const [toast] = await eventually(
        () => (toasts(tracker).length > 0 ? toasts(tracker) : null),
        5000,
        `a toast at ${screen}`,
      );
      assert(toast, 'the toast');
      assertInside(toast, `the toast at ${screen}`, { top: 47, right: 0, bottom: 34, left: 0 });
      assert(
        toast.getBoundingClientRect().bottom <= pill.getBoundingClientRect().top,
        `at ${screen} the toast sits above the pill, not over it`,
      );
      for (const control of controls(tracker, '[part="toast"]'))
        assertTappable(tracker, control, `the toast’s “${control.textContent?.trim()}” at ${screen}`);
      tracker.remove();
    });
    await client.cancel(running.id);
  });

  it('keeps its pill and the sheet’s controls clear of the safe-area insets (notch, home indicator)', async () => {
    const { client, create } = await testUser('phone-safe-area');
    const job = await create({ type: 'tracker.phone-safe-area', title: 'Q3 growth program' });
    const insets = { top: 47, right: 0, bottom: 34, left: 0 };
    const landscape = { top: 0, right: 47, bottom: 21, left: 47 };
    await atPhoneScreens(async (screen) => {
      for (const [name, inset] of [
        ['portrait', insets],
        ['landscape', landscape],
      ] as const) {
        await setSafeArea(inset);
        await new Promise((resolve) => requestAnimationFrame(resolve));
        for (const position of ['bottom-right', 'top-left']) {
          const tracker = await mount(client, { position });
          const pill = await eventually(() => button(root(tracker), 'pill'), 5000, 'the pill');
          assertInside(pill, `the ${position} pill at ${screen} (${name})`, inset);
          if (position === 'bottom-right') {
            pill.click();
            await eventually(() => root(tracker).querySelector('[part="panel"]'), 2000, 'the sheet');
            for (const control of controls(tracker, '[part="panel"]'))
              assertInside(
                control,
                `the sheet’s “${control.textContent?.trim()}” at ${screen} (${name})`,
                inset,
              );
          }
          tracker.remove();
        }
      }
    });
    await client.cancel(job.id);
  });
});
