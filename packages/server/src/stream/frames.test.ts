import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { eventFrame, HEARTBEAT_FRAME, preambleFrame, readyFrame, snapshotFrame } from './frames.js';
import type { LiveEvent } from './hub.js';

const text = (bytes: Uint8Array) => new TextDecoder().decode(bytes);

describe('SSE frames', () => {
  const event: LiveEvent = {
    cursor: 42,
    ownerId: 'alice',
    jobId: 'j1',
    version: 3,
    data: '{"id":"j1","message":"Größe 😀 a\u2028b\u0085c"}',
    progressFrom: null,
    coalescedFrom: null,
  };
  const job = {
    id: 'j1',
    type: 't',
    scope: null,
    title: 'Title',
    status: 'running',
    progress: 50,
    message: 'Größe a\u2028b',
    result: null,
    error: null,
    attempt: 1,
    maxAttempts: 3,
    retryOf: null,
    version: 3,
    createdAt: '2026-01-01T00:00:00.000Z',
    startedAt: '2026-01-01T00:00:01.000Z',
    updatedAt: '2026-01-01T00:00:02.000Z',
    completedAt: null,
  };
  const report: LiveEvent = { ...event, data: JSON.stringify(job), progressFrom: 2 };

  it('encodes a job frame as the UTF-8 of the text each stream was sent before, separators escaped', () => {
    const expected = 'id: 42\nevent: job\ndata: {"id":"j1","message":"Größe 😀 a\\u2028b\\u0085c"}\n\n';
    assert.deepEqual(Buffer.from(eventFrame(event)), Buffer.from(new TextEncoder().encode(expected)));
  });

  it('encodes a progress report as a `progress` frame of what it changed, on top of version - 1', () => {
    const expected =
      'id: 42\nevent: progress\ndata: {"id":"j1","version":3,"progress":50,"message":"Größe a\\u2028b","updatedAt":"2026-01-01T00:00:02.000Z"}\n\n';
    assert.equal(text(eventFrame(report)), expected);
  });

  it('sends whole a change that is not a report, or a report the log kept for several', () => {
    for (const other of [
      { ...report, progressFrom: null },
      { ...report, progressFrom: 1, coalescedFrom: 40 },
    ]) {
      assert.equal(
        text(eventFrame(other)),
        `id: 42\nevent: job\ndata: ${JSON.stringify(job).replace('\u2028', '\\u2028')}\n\n`,
      );
    }
  });

  it('builds and encodes an event once for every stream it goes to', () => {
    const first = eventFrame(event);
    assert.equal(eventFrame(event), first, 'the same bytes for the next subscriber');
    assert.notEqual(eventFrame({ ...event }), first, 'another event gets its own');
    assert.deepEqual(Buffer.from(eventFrame({ ...event })), Buffer.from(first));
  });

  it('writes the control frames as before', () => {
    assert.equal(text(HEARTBEAT_FRAME), ': heartbeat\n\n');
    assert.equal(text(preambleFrame(3000)), 'retry: 3000\n: jobtracker stream\n\n');
    assert.equal(text(readyFrame(7)), 'id: 7\nevent: ready\ndata: {"cursor":"7"}\n\n');
    assert.equal(
      text(snapshotFrame('reset', { jobs: [], cursor: 9 })),
      'id: 9\nevent: reset\ndata: {"jobs":[],"cursor":"9"}\n\n',
    );
  });
});
