import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createSseParser, type SseMessage } from './parse.js';

function parse(chunks: string[]) {
  const messages: SseMessage[] = [];
  const feed = createSseParser((message) => messages.push(message));
  for (const chunk of chunks) feed(chunk);
  return messages;
}

describe('SSE parser', () => {
  const stream =
    'retry: 3000\n: comment\n\nid: 5\nevent: job\ndata: {"a":1}\n\nid: 6\nevent: job\ndata: x\ndata: y\n\n';
  const expected = [
    { event: 'job', data: '{"a":1}', id: '5' },
    { event: 'job', data: 'x\ny', id: '6' },
  ];

  it('reads events, ids and multi-line data, skipping comments and retry', () => {
    assert.deepEqual(parse([stream]), expected);
  });

  it('gives the same events however the stream is split, even one character at a time', () => {
    assert.deepEqual(parse(stream.split('')), expected);
    for (let cut = 1; cut < stream.length; cut++) {
      assert.deepEqual(parse([stream.slice(0, cut), stream.slice(cut)]), expected, `cut at ${cut}`);
    }
  });

  it('accepts CRLF and CR line ends, including a CRLF split across chunks', () => {
    const crlf = stream.replaceAll('\n', '\r\n');
    assert.deepEqual(parse([crlf]), expected);
    assert.deepEqual(parse(crlf.split('')), expected);
    assert.deepEqual(parse([stream.replaceAll('\n', '\r')]), expected);
  });

  it('does not emit an event before its blank line, nor one without data', () => {
    assert.deepEqual(parse(['event: job\ndata: 1\n']), []);
    assert.deepEqual(parse(['event: job\nid: 3\n\n']), []);
    assert.deepEqual(parse(['data\n\n']), [{ event: 'message', data: '', id: undefined }]);
  });
});
