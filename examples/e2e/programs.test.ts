import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { useExampleApp } from './harness.js';

const example = useExampleApp();

const post = async (path: string, body?: unknown) => {
  const response = await fetch(`${example.base}/api${path}`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify(body ?? {}),
  });
  assert.ok(response.ok, `POST ${path}: ${response.status}`);
  return (await response.json()) as { job: { id: string } };
};

describe('the Programs page (examples/multi-page)', () => {
  it('keeps a trace of a cancelled program under "Recently generated", with its notice', async () => {
    const { job } = await post('/jobs', {
      type: 'demo.generate',
      scope: 'analysis-7',
      title: 'Q3 growth program',
      input: { durationMs: 60_000 },
    });
    await post(`/jobs/${job.id}/cancel`);
    const context = await example.browser.newContext({ viewport: { width: 1200, height: 800 } });
    try {
      const page = await context.newPage();
      await page.goto(`${example.base}/programs`);
      const recent = page.locator('section', { hasText: 'Recently generated' }).locator('job-list');
      const card = recent.locator(`[part~="card"][data-job-id="${job.id}"]`);
      await card.waitFor({ timeout: 10_000 });
      assert.equal(await card.getAttribute('data-status'), 'cancelled');
      assert.match((await card.locator('[part~="message"]').textContent()) ?? '', /cancelled/i, 'its notice');
      assert.equal(
        await page.locator('job-list[status="active"]').locator(`[data-job-id="${job.id}"]`).count(),
        0,
        'not in progress',
      );
    } finally {
      await context.close();
    }
  });
});
