import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { badge, percentOf, trackerPercent, useExampleApp } from './harness.js';

const example = useExampleApp();

describe('the seed story in the React example (client-side routing)', () => {
  it('follows a job across client-side routes, disables Generate, and shows one toast that links to the result route', async () => {
    const context = await example.browser.newContext({ viewport: { width: 1200, height: 800 } });
    const page = await context.newPage();
    await page.goto(`${example.base}/react/`);
    // A full page load would drop this marker: the routes below must stay client-side.
    await page.evaluate(() => Object.assign(window, { spaMarker: true }));
    const stillOnePageLoad = async () =>
      assert.equal(await page.evaluate(() => 'spaMarker' in window), true, 'no full page load');
    await page.getByRole('button', { name: 'Generate program' }).click();
    await page.locator('job-tracker [part="percent"]').first().waitFor({ timeout: 10_000 });
    assert.equal(
      await page.locator('job-tracker [part="label"]').first().textContent(),
      'Program generation',
    );
    const seen: number[] = [percentOf(await trackerPercent(page))];
    await page
      .locator('nav')
      .getByRole('link', { name: /Programs/ })
      .click();
    await page.waitForURL(`${example.base}/react/programs`);
    await page.locator('job-list [part="card"]').first().waitFor({ timeout: 10_000 });
    assert.equal(await badge(page).textContent(), '1');
    assert.match(
      (await page.locator('main h2').first().textContent()) ?? '',
      /In progress \(1\)/,
      'the SDK store in a React component',
    );
    await page.waitForTimeout(700);
    await page.locator('nav').getByRole('link', { name: 'Settings' }).click();
    await page.waitForURL(`${example.base}/react/settings`);
    await page.locator('job-tracker [part="percent"]').first().waitFor({ timeout: 5000 });
    seen.push(percentOf(await trackerPercent(page)));
    assert.ok(seen[1] !== undefined && seen[0] !== undefined && seen[1] > seen[0], `progress rises: ${seen}`);
    assert.equal(await badge(page).textContent(), '1');
    await page.locator('nav').getByRole('link', { name: 'Analysis' }).click();
    await page.waitForFunction(
      () => document.querySelector('job-button button')?.getAttribute('aria-disabled') === 'true',
      null,
      { timeout: 5000 },
    );
    await stillOnePageLoad();
    const toast = page.locator('job-tracker [part="toast"]');
    await toast.first().waitFor({ timeout: 15_000 });
    await page.waitForTimeout(1000);
    assert.equal(await toast.count(), 1, 'exactly one toast');
    await page.locator('job-badge[count="0"]').waitFor({ state: 'attached', timeout: 5000 });
    await page.waitForFunction(
      () => document.querySelector('job-button button')?.getAttribute('aria-disabled') !== 'true',
      null,
      { timeout: 5000 },
    );
    await stillOnePageLoad();
    await toast.locator('[part="view-link"]').click();
    await page.waitForURL(/\/react\/programs\/[0-9a-z]{26}$/);
    await page.locator('main').getByText('is ready').waitFor({ timeout: 5000 });
    await stillOnePageLoad();
    await context.close();
  });
});
