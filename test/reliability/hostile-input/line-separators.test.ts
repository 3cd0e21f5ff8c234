// Issue 13, point 5: line separators never reach a stream raw.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createJobClient, type Job } from '@jobtracker/sdk';
import { eventually, SseReader } from '@jobtracker/test-support/server';
import { asUser, asWorker, json, send, token, useHostileServer } from './fixture.js';

describe('hostile and unusual input: stream data', () => {
  const hostile = useHostileServer();

  describe('line separators in stream data', () => {
    it('escapes U+2028, U+2029 and U+0085 in every stream frame; the SDK reads the exact text', async () => {
      const separators = /\u2028|\u2029|\u0085/;
      const title = 'one\u2028two\u2029three\u0085four';
      const message = 'step\u2028by\u2029step\u0085done';
      const controller = new AbortController();
      const rawStreams: Buffer[][] = [];
      const open = async (headers: Record<string, string> = {}) => {
        const response = await fetch(`${hostile.base}/api/jobs/stream`, {
          headers: { ...asUser('lines'), ...headers },
          signal: controller.signal,
        });
        assert.ok(response.body, 'a stream body');
        const [forReader, forBytes] = response.body.tee();
        const chunks: Buffer[] = [];
        rawStreams.push(chunks);
        void (async () => {
          try {
            for await (const chunk of forBytes) chunks.push(Buffer.from(chunk));
          } catch {
            // aborted at the end of the test
          }
        })();
        return new SseReader(new Response(forReader));
      };
      const client = createJobClient({
        baseUrl: `${hostile.base}/api`,
        transport: 'sse',
        storage: null,
        shareTabs: false,
        token: () => token('lines'),
      });
      const unsubscribe = client.$jobs.subscribe(() => {});
      try {
        const live = await open();
        await live.until(() => live.ready.length > 0, 5000, 'the first stream to be live');
        const cursorBefore = live.ready[0]?.cursor ?? '0';
        const created = await send(`${hostile.base}/api/jobs`, {
          method: 'POST',
          headers: { ...asUser('lines'), ...json },
          body: JSON.stringify({ type: 'lines.job', title }),
        });
        assert.equal(created.status, 201, 'job created');
        const job = created.body.job as Job;
        const { leaseToken } = await hostile.claim('lines.job');
        const progressed = await send(`${hostile.base}/api/worker/jobs/${job.id}/progress`, {
          method: 'POST',
          headers: asWorker,
          body: JSON.stringify({ leaseToken, progress: 50, message }),
        });
        assert.equal(progressed.status, 200, 'progress reported');
        const hasMessage = (reader: SseReader) =>
          reader.events.some((event) => event.data.includes('step') && event.data.includes('done'));
        await live.until(() => hasMessage(live), 5000, 'the live job event');
        const snapshot = await open();
        await snapshot.until(() => hasMessage(snapshot), 5000, 'the snapshot');
        const replay = await open({ 'Last-Event-ID': cursorBefore });
        await replay.until(() => hasMessage(replay), 5000, 'the replay');
        for (const [index, chunks] of rawStreams.entries()) {
          const text = await eventually(
            () => {
              const received = Buffer.concat(chunks).toString('utf8');
              return received.includes('done') ? received : null;
            },
            5000,
            `the bytes of stream ${index}`,
          );
          assert.doesNotMatch(text, separators, `stream ${index} holds no raw line separator`);
          assert.ok(text.includes('\\u2028') && text.includes('\\u0085'), `stream ${index} escapes them`);
        }
        await eventually(
          () => client.$jobs.get()[job.id]?.message === message,
          5000,
          'the SDK client to hold the exact message',
        );
        assert.equal(client.$jobs.get()[job.id]?.title, title, 'the SDK client holds the exact title');
      } finally {
        unsubscribe();
        controller.abort();
      }
    });
  });
});
