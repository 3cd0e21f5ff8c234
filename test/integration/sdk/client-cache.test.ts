import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createJobClient } from '@jobtracker/sdk';
import { storedJob } from '@jobtracker/test-support/jobs';
import { startServerProcess } from '@jobtracker/test-support/server-process';
import { eventually, memoryStorage, signTestToken } from '@jobtracker/test-support/tokens';
import { WORKER, watch } from './client-fixture.js';

describe('job client cache and cursor', () => {
  it('starts from its stored jobs, then takes a clean reset when its cursor is not the server’s', async () => {
    const server = await startServerProcess({ args: ['--worker-key', WORKER] });
    const storage = memoryStorage();
    const ghost = storedJob({
      id: '01m8k0x60974smd8gnmwwmw599',
      type: 'ghost',
      title: 'From another database',
      progress: 50,
      version: 9,
    });
    const baseUrl = `${server.url}/api`;
    storage.setItem(
      `jobtracker:${baseUrl}:default`,
      JSON.stringify({ v: 1, cursor: '9999999999999999', jobs: [ghost] }),
    );
    const client = createJobClient({ baseUrl, transport: 'sse', storage });
    assert.equal(
      client.jobStore(ghost.id).get()?.title,
      'From another database',
      'known before any network answer',
    );
    const real = await fetch(`${baseUrl}/jobs`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ type: 'real' }),
    }).then((r) => r.json());
    const watcher = watch(client);
    await eventually(() => client.jobStore(real.job.id).get(), 5000, 'the reset snapshot');
    assert.equal(client.jobStore(ghost.id).get(), undefined, 'the reset replaced the stale cache');
    assert.notEqual(client.cursor, '9999999999999999');
    await eventually(
      () => JSON.parse(storage.getItem(`jobtracker:${baseUrl}:default`) ?? '{}').cursor === client.cursor,
      2000,
      'the cache to be saved',
    );
    client.clear();
    assert.equal(storage.getItem(`jobtracker:${baseUrl}:default`), null);
    watcher.stop();
    await server.kill();
  });
});

describe('job client cache owners', () => {
  it('keys its cache by the owner of the token: a token function is asked before anything cached shows, and a token without an owner keeps nothing', async () => {
    const secret = 'owner-test-secret';
    const server = await startServerProcess({ args: ['--worker-key', WORKER, '--secret', secret] });
    const baseUrl = `${server.url}/api`;
    const storage = memoryStorage();
    const alicesJob = storedJob({
      id: '01m8k0x60974smd8gnmwwmw5aa',
      type: 'salary.report',
      title: "Alice's salary report",
      progress: 40,
      version: 3,
    });
    const cached = JSON.stringify({ v: 1, cursor: '3', jobs: [alicesJob] });
    for (const owner of ['default', 'alice']) storage.setItem(`jobtracker:${baseUrl}:${owner}`, cached);
    storage.setItem(`jobtracker:${baseUrl}:alice:dismissed`, JSON.stringify(['dismissed-by-alice']));
    try {
      let calls = 0;
      const bob = createJobClient({
        baseUrl,
        transport: 'sse',
        storage,
        token: () => {
          calls++;
          return signTestToken('bob', secret);
        },
      });
      const held: string[] = [];
      const stopHeld = bob.$jobs.subscribe((jobs) => held.push(...Object.keys(jobs)));
      assert.deepEqual(bob.$dismissed.get(), [], 'no dismissed ids before the owner is known');
      const { job } = await bob.start({ type: 'bob.job' });
      await eventually(
        () => storage.getItem(`jobtracker:${baseUrl}:bob`)?.includes(job.id),
        3000,
        "bob's cache under bob's key",
      );
      assert.equal(calls, 1, 'the token function was asked once, for the owner and the first requests');
      assert.ok(!held.includes(alicesJob.id), `bob's client never held alice's job: ${held}`);
      assert.equal(storage.getItem(`jobtracker:${baseUrl}:alice`), cached, "alice's cache untouched");
      assert.equal(storage.getItem(`jobtracker:${baseUrl}:default`), cached, 'the shared key untouched');
      stopHeld();

      const opaque = createJobClient({ baseUrl, storage, token: 'not-a-jwt' });
      assert.deepEqual(opaque.$jobs.get(), {}, 'a token without an owner starts empty');
      const keys = [...storage.items.keys()].sort();
      await assert.rejects(opaque.dismiss('x'), 'a dismissal the server refuses rejects');
      assert.deepEqual([...storage.items.keys()].sort(), keys, 'and writes nothing');
    } finally {
      await server.kill();
    }
  });
});
