import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { caller, openTestTracker, tokenFor, WORKER_KEY } from '@jobtracker/test-support/server';
import type { JobTracker } from './tracker.js';

describe('methods on the app’s routes (web Request/Response, as a host embeds the app)', () => {
  let tracker: JobTracker;
  before(async () => {
    tracker = await openTestTracker();
    tracker.app.get('/host-page/:name', (c) => c.text(c.req.param('name')));
  });
  after(async () => {
    await tracker.close();
  });

  it('answers HEAD /api/jobs/stream with the stream’s headers and keeps no stream open', async () => {
    const response = await tracker.app.request('/api/jobs/stream', {
      method: 'HEAD',
      headers: { Authorization: `Bearer ${tokenFor('head')}` },
    });
    assert.equal(response.status, 200, 'HEAD answers like GET');
    assert.match(response.headers.get('content-type') ?? '', /^text\/event-stream/, 'with the stream’s type');
    assert.equal(response.body, null, 'and no body');
    assert.equal(tracker.streams.connections.size, 0, 'no stream is left open');
    const health = await caller(tracker.app)('/api/health');
    assert.equal(health.json.streams, 0, 'health counts no stream');
  });

  it('answers 405 with Allow from the route table, including routes added after the API', async () => {
    const call = caller(tracker.app);
    const cases: [method: string, path: string, allowed: string, headers?: Record<string, string>][] = [
      ['DELETE', '/api/jobs', 'GET, HEAD, POST'],
      ['PUT', '/api/jobs/01m8k0x60974smd8gnmwwmw588/cancel', 'POST'],
      ['GET', '/api/worker/progress', 'POST', { Authorization: `Bearer ${WORKER_KEY}` }],
      ['POST', '/api/openapi.json', 'GET, HEAD'],
      ['POST', '/host-page/x', 'GET, HEAD'],
    ];
    for (const [method, path, allowed, headers] of cases) {
      const answer = await call(path, { method, token: headers ? null : tokenFor('m'), headers });
      assert.equal(answer.status, 405, `${method} ${path}: ${JSON.stringify(answer.json)}`);
      assert.equal(answer.headers.get('allow'), allowed, `${method} ${path}: Allow`);
      assert.equal(answer.json.error.code, 'method_not_allowed', `${method} ${path}: code`);
    }
    const unknown = await call('/api/jobs/01m8k0x60974smd8gnmwwmw588/archive', {
      method: 'POST',
      token: tokenFor('m'),
    });
    assert.equal(unknown.status, 404, 'a path no route has is 404');
    assert.equal(unknown.headers.get('allow'), null, 'with no Allow header');
  });
});
