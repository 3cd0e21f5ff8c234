// Issue 13, point 5: deeply nested JSON is a 400, not a stack overflow, and a deep result stored in
// process is served on every read path.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { SseReader } from '@jobtracker/test-support/server';
import {
  asUser,
  asWorker,
  captureLogs,
  json,
  nestedArrays,
  nestedObjects,
  send,
  useHostileServer,
} from './fixture.js';

describe('hostile and unusual input: nested JSON', () => {
  const hostile = useHostileServer();

  describe('deeply nested JSON', () => {
    const assertTooDeep = (answer: Awaited<ReturnType<typeof send>>, what: string) => {
      assert.equal(answer.status, 400, `${what}: ${answer.text.slice(0, 300)}`);
      assert.deepEqual(Object.keys(answer.body), ['error'], `${what}: the usual error body`);
      assert.equal(answer.body.error.code, 'json_too_deep', `${what}: code`);
      assert.match(answer.body.error.message, /64/, `${what}: the message names the limit`);
    };

    it('is refused with 400 json_too_deep on POST /api/jobs, up to 100,000 levels, and logs nothing', async (t) => {
      const logs = captureLogs(t);
      const bodies: [string, string][] = [
        ['arrays 100 deep', nestedArrays(100)],
        ['arrays 2,200 deep', nestedArrays(2200)],
        ['objects 2,200 deep', nestedObjects(2200)],
        ['arrays 100,000 deep', nestedArrays(100_000)],
      ];
      for (const [what, input] of bodies) {
        const answer = await send(`${hostile.base}/api/jobs`, {
          method: 'POST',
          headers: { ...asUser('deep'), ...json },
          body: `{"type":"deep.job","input":${input}}`,
        });
        assertTooDeep(answer, what);
      }
      const unauthenticated = await send(`${hostile.base}/api/jobs`, {
        method: 'POST',
        headers: json,
        body: `{"type":"deep.job","input":${nestedArrays(100_000)}}`,
      });
      assert.ok(
        [400, 401].includes(unauthenticated.status),
        `no 500 without a token (${unauthenticated.status})`,
      );
      assert.deepEqual(logs, [], 'a client’s deep JSON is not a server error');
    });

    it('accepts JSON within the limit, and brackets inside strings do not count', async () => {
      const fine = await hostile.createJob('deep.ok', { input: JSON.parse(nestedArrays(60)) });
      assert.equal(fine.type, 'deep.ok', 'an input 60 levels deep is stored');
      const brackets = `"\\"${'['.repeat(10_000)}{"`;
      const job = await hostile.createJob('deep.strings', { input: { text: JSON.parse(brackets) } });
      assert.equal((job as unknown as { id: string }).id.length, 26, 'brackets in a string are just text');
      const chunked = await send(`${hostile.base}/api/jobs`, {
        method: 'POST',
        headers: { ...asUser('hostile'), ...json },
        body: new ReadableStream({
          start(controller) {
            controller.enqueue(new TextEncoder().encode('{"type":"deep.chunked",'));
            controller.enqueue(new TextEncoder().encode('"input":[[1]]}'));
            controller.close();
          },
        }),
        duplex: 'half',
      } as RequestInit);
      assert.equal(chunked.status, 201, `a chunked body (no Content-Length) is read once: ${chunked.text}`);
      assert.deepEqual(chunked.body.job.type, 'deep.chunked', 'the chunked job is the one sent');
    });

    it('is refused with 400 json_too_deep on the worker’s complete, and the lease still works after', async (t) => {
      const logs = captureLogs(t);
      const job = await hostile.createJob('deep.worker');
      const { leaseToken } = await hostile.claim('deep.worker');
      for (const depth of [2200, 100_000]) {
        const answer = await send(`${hostile.base}/api/worker/jobs/${job.id}/complete`, {
          method: 'POST',
          headers: asWorker,
          body: `{"leaseToken":${JSON.stringify(leaseToken)},"result":${nestedArrays(depth)}}`,
        });
        assertTooDeep(answer, `result ${depth} deep`);
      }
      const progress = await send(`${hostile.base}/api/worker/progress`, {
        method: 'POST',
        headers: asWorker,
        body: `{"updates":[{"id":"${job.id}","leaseToken":"${leaseToken}","progress":5,"x":${nestedArrays(5000)}}]}`,
      });
      assertTooDeep(progress, 'a progress batch');
      const done = await send(`${hostile.base}/api/worker/jobs/${job.id}/complete`, {
        method: 'POST',
        headers: asWorker,
        body: JSON.stringify({ leaseToken, result: { url: '/fine' } }),
      });
      assert.equal(done.status, 200, `a fine result completes the job: ${done.text.slice(0, 200)}`);
      assert.deepEqual(logs, [], 'a worker’s deep JSON is not a server error');
    });
  });

  it('serves a job whose result an in-process handler stored 4,000 levels deep, on every read path', async () => {
    const job = await hostile.createJob('deep.stored');
    const { leaseToken } = await hostile.claim('deep.stored');
    let result: unknown = 'bottom';
    for (let i = 0; i < 4000; i++) result = [result];
    await hostile.server.tracker.engine.complete(job.id, leaseToken, result as never);
    const headers = asUser('hostile');
    const one = await send(`${hostile.base}/api/jobs/${job.id}`, { headers });
    assert.equal(one.status, 200, `GET /api/jobs/:id: ${one.text.slice(0, 200)}`);
    assert.equal((await send(`${hostile.base}/api/jobs`, { headers })).status, 200, 'GET /api/jobs');
    assert.equal(
      (await send(`${hostile.base}/api/jobs?since=0`, { headers })).status,
      200,
      'GET /api/jobs?since=0',
    );
    const controller = new AbortController();
    try {
      const response = await fetch(`${hostile.base}/api/jobs/stream`, { headers, signal: controller.signal });
      const reader = new SseReader(response);
      await reader.until(() => reader.ready.length > 0, 5000, 'the snapshot');
      assert.ok(reader.events[0]?.data.includes('bottom'), 'the snapshot carries the deep result');
    } finally {
      controller.abort();
    }
  });
});
