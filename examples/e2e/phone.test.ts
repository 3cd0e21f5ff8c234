import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { PHONE_SCREENS } from '@jobtracker/test-support/screens';
import type { Locator, Page } from 'playwright-core';
import { takePicture, useExampleApp } from './harness.js';

// Long enough for every width to see the job running; the test cancels it when done.
const example = useExampleApp({ demoDurationMs: 120_000 });

const phone = (width: number, height = 667) =>
  example.browser.newContext({
    viewport: { width, height },
    deviceScaleFactor: 2,
    isMobile: true,
    hasTouch: true,
  });

/** How wide the page lays out, against the screen's width: a phone page wider than its screen scrolls sideways. */
const pageWidth = (page: Page) =>
  page.evaluate(() => Math.max(document.documentElement.scrollWidth, window.innerWidth));

async function assertOnScreen(locator: Locator, what: string, width: number, height: number) {
  const box = await locator.boundingBox();
  assert.ok(box, `${what} is shown`);
  assert.ok(
    box.x >= 0 && box.y >= 0 && box.x + box.width <= width && box.y + box.height <= height,
    `${what} lies inside the ${width}×${height} screen: x ${Math.round(box.x)}–${Math.round(box.x + box.width)}, y ${Math.round(box.y)}–${Math.round(box.y + box.height)}`,
  );
}

/** True when a tap at the centre of `locator` reaches it, not what lies over it. */
const reachable = (locator: Locator) =>
  locator.evaluate((element) => {
    const box = element.getBoundingClientRect();
    const hit = document.elementFromPoint(box.left + box.width / 2, box.top + box.height / 2);
    return hit !== null && (hit === element || element.contains(hit));
  });

describe('the example on a phone (examples/multi-page)', () => {
  it('fits every page at 320, 360, 375 and 414 px upright and on a phone on its side with a job running, and its tracker opens and closes with a tap', async () => {
    const setup = await phone(375);
    const start = await setup.newPage();
    await start.goto(`${example.base}/`);
    await start.getByRole('button', { name: 'Generate program' }).tap();
    await start.locator('job-badge[count="1"]').waitFor({ state: 'attached', timeout: 10_000 });
    const [running] = (await example.api<{ jobs: { id: string }[] }>('/jobs?status=active')).jobs;
    assert.ok(running, 'the job runs');
    await setup.close();

    for (const [width, height] of PHONE_SCREENS) {
      const context = await phone(width, height);
      const page = await context.newPage();
      for (const path of ['/', '/programs', '/settings', `/programs/${running.id}`]) {
        await page.goto(`${example.base}${path}`);
        await page.locator('job-badge[count="1"]').waitFor({ state: 'attached', timeout: 10_000 });
        const pill = page.locator('job-tracker [part="pill"]');
        await pill.waitFor({ timeout: 10_000 });
        await page.locator('job-badge [part="badge"]').waitFor({ timeout: 5000 });
        assert.equal(
          await pageWidth(page),
          width,
          `${path} at ${width}×${height}: the page does not scroll sideways`,
        );
        await assertOnScreen(pill, `the tracker's pill on ${path} at ${width}×${height}`, width, height);
      }
      await page.goto(`${example.base}/`);
      const pill = page.locator('job-tracker [part="pill"]');
      await pill.tap({ timeout: 3000 });
      const panel = page.locator('job-tracker [part="panel"]');
      await panel.waitFor({ timeout: 3000 });
      await assertOnScreen(panel, `the open panel at ${width}×${height}`, width, height);
      // The page scrolls under the sheet: what the sheet covers can be brought above it.
      const risky = page.getByRole('button', { name: 'Generate (fails at 40%)' });
      await risky.evaluate((button) => {
        const sheet = document
          .querySelector('job-tracker')
          ?.shadowRoot?.querySelector('[part="panel"]')
          ?.getBoundingClientRect();
        const box = button.getBoundingClientRect();
        if (sheet && box.bottom > sheet.top) window.scrollBy(0, box.bottom - sheet.top + 8);
      });
      assert.ok(
        await reachable(risky),
        `at ${width}×${height} the open panel leaves the Generate buttons usable`,
      );
      if (width === 375) {
        // The README's picture: the top of the page (the app's name, the wrapped nav) above the sheet.
        await page.evaluate(() => window.scrollTo(0, 0));
        await takePicture(page, example.screenshot('phone.png'));
      }
      await page.locator('job-tracker [part="toggle"]').tap({ timeout: 3000 });
      await pill.waitFor({ timeout: 3000 });
      await context.close();
    }

    const context = await phone(375);
    const page = await context.newPage();
    await page.goto(`${example.base}/`);
    await page.locator('job-tracker [part="pill"]').tap({ timeout: 3000 });
    await page.locator('job-tracker [part="cancel-button"]').first().tap({ timeout: 3000 });
    await page.locator('job-badge[count="0"]').waitFor({ state: 'attached', timeout: 10_000 });
    await context.close();
  });
});
