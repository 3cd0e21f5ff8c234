import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { caller } from '@jobtracker/test-support/server';
import { Hono } from 'hono';
import { JobEngine } from '../engine/engine.js';
import { SqliteStore } from '../storage/sqlite/sqlite-store.js';
import { createApp } from './app.js';

describe('createApp', () => {
  const store = new SqliteStore({ url: ':memory:' });
  const engine = new JobEngine({ store });
  after(async () => {
    await engine.stop();
    await store.close();
  });

  it('returns a Hono app that a host mounts beside its own routes', async () => {
    await store.migrate();
    await engine.start();
    const host = new Hono();
    host.get('/', (c) => c.text('host home'));
    host.route('/', createApp({ engine, authenticate: (request) => request.headers.get('x-session') }));
    const call = caller(host);
    assert.equal((await host.request('/')).status, 200);
    const created = await call('/api/jobs', { body: { type: 'host.job' }, headers: { 'X-Session': 'u1' } });
    assert.equal(created.status, 201);
    const listed = await call('/api/jobs', { headers: { 'X-Session': 'u1' } });
    assert.deepEqual(
      listed.json.jobs.map((j: { id: string }) => j.id),
      [created.json.job.id],
    );
    assert.equal((await call('/api/jobs')).status, 401);
  });

  it('mounts under another base path', async () => {
    const app = createApp({ engine, basePath: '/jobs-api', authenticate: () => 'u2' });
    assert.equal((await app.request('/jobs-api/health')).status, 200);
    assert.equal((await app.request('/api/health')).status, 404);
  });
});
