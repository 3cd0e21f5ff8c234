import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { HEARTBEAT_FRAME, jobFrame, preambleFrame, readyFrame, snapshotFrame } from './frames.js';
import type { LiveEvent } from './hub.js';

const text = (bytes: Uint8Array) => new TextDecoder().decode(bytes);

describe('SSE frames', () => {
  const event: LiveEvent = {
    cursor: 42,
    ownerId: 'alice',
    jobId: 'j1',
    version: 3,
    data: '{"id":"j1","message":"Größe 😀 a\u2028b\u0085c"}',
  };

  it('encodes a job frame as the UTF-8 of the text each stream was sent before, separators escaped', () => {
    const expected = 'id: 42\nevent: job\ndata: {"id":"j1","message":"Größe 😀 a\\u2028b\\u0085c"}\n\n';
    assert.deepEqual(Buffer.from(jobFrame(event)), Buffer.from(new TextEncoder().encode(expected)));
  });

  it('builds and encodes an event once for every stream it goes to', () => {
    const first = jobFrame(event);
    assert.equal(jobFrame(event), first, 'the same bytes for the next subscriber');
    assert.notEqual(jobFrame({ ...event }), first, 'another event gets its own');
    assert.deepEqual(Buffer.from(jobFrame({ ...event })), Buffer.from(first));
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
