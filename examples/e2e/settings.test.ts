import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { BrowserContext, Page } from 'playwright-core';
import { useExampleApp } from './harness.js';

const example = useExampleApp();

/** Records, in the page, each permission request and whether a user's action (a click) led to it. */
async function recordPermissionRequests(context: BrowserContext) {
  await context.addInitScript(() => {
    const asked: boolean[] = [];
    Reflect.set(window, '__askedFromClick', asked);
    const request = Notification.requestPermission.bind(Notification);
    Notification.requestPermission = () => {
      asked.push(navigator.userActivation.isActive);
      return request();
    };
  });
}
const askedFromClick = (page: Page) =>
  page.evaluate(() => Reflect.get(window, '__askedFromClick') as boolean[]);
const trackerNotifies = (page: Page) =>
  page.locator('job-tracker').evaluate((tracker) => tracker.hasAttribute('notify'));
const setting = (page: Page) => page.getByRole('checkbox', { name: /Notify me when a program is ready/ });

describe('the example’s Settings page (examples/multi-page)', () => {
  it('turns completion notifications on, asking the browser from the click, and keeps them on for every page until turned off', async () => {
    const context = await example.browser.newContext({ viewport: { width: 1200, height: 800 } });
    await context.grantPermissions(['notifications'], { origin: example.base });
    await recordPermissionRequests(context);
    const page = await context.newPage();
    await page.goto(`${example.base}/settings`);
    assert.equal(await setting(page).isChecked(), false, 'off at first');
    assert.equal(await trackerNotifies(page), false, 'the tracker does not notify at first');
    assert.deepEqual(await askedFromClick(page), [], 'nothing asked before the click');

    await setting(page).check();
    assert.deepEqual(await askedFromClick(page), [true], 'asked once, from the click');
    assert.equal(await trackerNotifies(page), true, 'the tracker of this page notifies at once');
    await page
      .getByRole('status')
      .filter({ hasText: /notified/ })
      .waitFor({ timeout: 2000 });

    for (const path of ['/', '/programs', '/settings']) {
      await page.goto(`${example.base}${path}`);
      assert.equal(await trackerNotifies(page), true, `the tracker on ${path} notifies`);
    }
    assert.equal(await setting(page).isChecked(), true, 'the setting shows on after a reload');

    await setting(page).uncheck();
    assert.equal(await trackerNotifies(page), false, 'turned off on this page');
    await page.goto(`${example.base}/programs`);
    assert.equal(await trackerNotifies(page), false, 'and on the next');
    await context.close();
  });

  it('stays off and says so when the browser blocks notifications', async () => {
    const context = await example.browser.newContext({ viewport: { width: 1200, height: 800 } });
    await recordPermissionRequests(context);
    const page = await context.newPage();
    await page.goto(`${example.base}/settings`);
    // What a user who once answered "Block" gets: the request resolves "denied" without a prompt.
    await page.evaluate(() => {
      Notification.requestPermission = async () => 'denied';
    });
    await setting(page).click();
    await page
      .getByRole('status')
      .filter({ hasText: /blocked/ })
      .waitFor({ timeout: 2000 });
    assert.equal(await setting(page).isChecked(), false, 'the setting stays off');
    await page.goto(`${example.base}/programs`);
    assert.equal(await trackerNotifies(page), false, 'the tracker does not notify');
    await context.close();
  });
});
