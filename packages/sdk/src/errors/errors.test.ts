import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { JobTrackerHttpError } from './errors.js';

const refused = (status: number, headers: Record<string, string> = {}) =>
  JobTrackerHttpError.from(
    new Response(JSON.stringify({ error: { code: 'rate_limited', message: 'Slow down.' } }), {
      status,
      headers: { 'Content-Type': 'application/json', ...headers },
    }),
  );

describe('JobTrackerHttpError', () => {
  it('keeps the status, code and message of the API’s error body', async () => {
    const error = await refused(429);
    assert.deepEqual([error.status, error.code, error.message], [429, 'rate_limited', 'Slow down.']);
  });

  it('reads Retry-After as seconds or as an HTTP date, and null when absent or unreadable', async () => {
    assert.equal((await refused(503, { 'Retry-After': '2' })).retryAfterMs, 2000);
    assert.equal((await refused(429, { 'Retry-After': '0' })).retryAfterMs, 0);
    const inTenSeconds = new Date(Date.now() + 10_000).toUTCString();
    const fromDate = (await refused(503, { 'Retry-After': inTenSeconds })).retryAfterMs ?? -1;
    assert.ok(fromDate > 8000 && fromDate <= 10_000, `an HTTP date 10 s ahead: ${fromDate} ms`);
    assert.equal((await refused(503)).retryAfterMs, null);
    assert.equal((await refused(503, { 'Retry-After': 'soon' })).retryAfterMs, null);
    assert.equal((await refused(503, { 'Retry-After': '-5' })).retryAfterMs, null);
  });
});
