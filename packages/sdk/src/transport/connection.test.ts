import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { eventually } from '@jobtracker/test-support/tokens';
import {
  type FakeStream,
  fakeServer,
  gaps,
  isPoll,
  isStream,
  pollAnswer,
  run,
  SLACK_MS,
  snapshot,
} from '../testing/fake-job-api.js';

describe('connection', () => {
  it('falls back to polling when a stream opens but never delivers (a buffering proxy)', async () => {
    const server = fakeServer({ onStream: () => undefined, poll: pollAnswer });
    const connection = run(server.fetch, 'auto', { firstEventMs: 100 });
    await eventually(() => connection.state() === 'polling', 3000, 'polling');
    assert.ok(
      server.requests.some((r) => r.path.startsWith('/api/jobs?since=')),
      'it polls with since=',
    );
    const polls = server.requests.filter((r) => r.path.startsWith('/api/jobs?since='));
    await eventually(
      () => server.requests.filter((r) => r.path.startsWith('/api/jobs?since=')).length > polls.length + 1,
    );
    assert.equal(
      server.requests.at(-1)?.headers.get('if-none-match'),
      '"7-x"',
      'polls revalidate with the ETag',
    );
    connection.stop();
  });

  it('reconnects from its cursor when heartbeats stop (a half-open connection)', async () => {
    const streams: FakeStream[] = [];
    const server = fakeServer({
      onStream: (stream) => {
        streams.push(stream);
        const nth = streams.length;
        const first = snapshot('41');
        const second = 'id: 42\nevent: job\ndata: {"id":"a","version":1}\n\n';
        if (nth <= 2) setTimeout(() => stream.push(nth === 1 ? first : second), 5);
        return undefined;
      },
    });
    const connection = run(server.fetch, 'sse', { watchdogMs: 150 });
    await eventually(() => streams.length >= 2, 3000, 'a second stream after silence');
    assert.equal(streams[1]?.headers.get('last-event-id'), '41');
    await eventually(() => connection.delivered.length >= 3);
    assert.deepEqual(
      connection.delivered.map((m) => [m.kind, m.cursor]),
      [
        ['snapshot', '41'],
        ['jobs', '41'],
        ['jobs', '42'],
      ],
    );
    connection.stop();
  });

  /** Ways a stream fails while the rest of the API answers (a proxy or CDN in the way). */
  const brokenStreams: [string, (stream: FakeStream) => Response | undefined][] = [
    [
      'is reset before any byte',
      () => {
        throw new TypeError('fetch failed');
      },
    ],
    ...[404, 500, 502, 503].map((status): [string, () => Response] => [
      `is refused with ${status}`,
      () => new Response('refused', { status }),
    ]),
    ['sends its headers and then nothing', () => undefined],
    [
      'sends its headers and closes at once',
      (stream) => {
        stream.end();
        return undefined;
      },
    ],
    [
      'delivers its snapshot and closes at once',
      (stream) => {
        stream.push(snapshot('3'));
        stream.end();
        return undefined;
      },
    ],
  ];
  for (const [how, onStream] of brokenStreams) {
    it(`polls right after the first stream attempt when the stream ${how} while the API answers`, async () => {
      const server = fakeServer({ onStream, poll: pollAnswer });
      const connection = run(server.fetch, 'auto', { firstEventMs: 100 });
      await eventually(() => connection.state() === 'polling', 3000, 'polling');
      await eventually(() => server.requests.filter(isPoll).length >= 3, 3000, 'three polls');
      connection.stop();
      const firstPoll = server.requests.findIndex(isPoll);
      assert.equal(
        server.requests.slice(0, firstPoll).filter(isStream).length,
        1,
        'one failed stream attempt, then a poll',
      );
      assert.deepEqual(
        connection.delivered.at(-1),
        { kind: 'jobs', jobs: [], cursor: '7' },
        'the poll is taken',
      );
    });
  }

  it('polls within 5 s by default when a stream sends its headers and then nothing (a buffering proxy)', async () => {
    const server = fakeServer({ onStream: () => undefined, poll: pollAnswer });
    const connection = run(server.fetch, 'auto', {});
    await eventually(() => server.requests.some(isPoll), 5000, 'a poll within 5 s');
    connection.stop();
    const [stream, poll] = [server.requests.find(isStream)?.at ?? 0, server.requests.find(isPoll)?.at ?? 0];
    assert.ok(
      poll - stream < 5000,
      `the first poll came ${Math.round(poll - stream)} ms after the stream request`,
    );
  });

  it('while polling, tries the stream again after sseRetryFirstMs, doubling up to sseRetryMs, and keeps polling meanwhile', async () => {
    const server = fakeServer({
      onStream: (stream) => {
        stream.end();
        return undefined;
      },
      poll: pollAnswer,
    });
    const connection = run(server.fetch, 'auto', { sseRetryFirstMs: 100, sseRetryMs: 400 });
    await eventually(() => server.requests.filter(isStream).length >= 6, 5000, 'six stream attempts');
    connection.stop();
    const streams = server.requests.filter(isStream).map((request) => request.at);
    const waits = gaps(streams);
    for (const [i, expected] of [100, 200, 400, 400, 400].entries()) {
      const wait = waits[i] ?? 0;
      assert.ok(
        wait >= expected - SLACK_MS && wait < expected + 300,
        `retry ${i + 1} came after ${Math.round(wait)} ms, not about ${expected} ms`,
      );
      const polls = server.requests.filter(
        (r) => isPoll(r) && r.at > (streams[i] ?? 0) && r.at < (streams[i + 1] ?? 0),
      );
      assert.ok(polls.length >= 2, `${polls.length} polls before retry ${i + 1}`);
    }
    assert.ok(
      connection.statuses.every((s) => s.state !== 'error' && s.state !== 'live'),
      `never an error nor live: ${connection.statuses.map((s) => s.state)}`,
    );
  });

  it('tries the stream again when it is due even while an idle poll period runs', async () => {
    const server = fakeServer({
      onStream: (stream) => {
        stream.end();
        return undefined;
      },
      poll: pollAnswer,
    });
    const connection = run(server.fetch, 'auto', {
      busy: () => false,
      pollActiveMs: 50,
      pollIdleMs: 5000,
      sseRetryFirstMs: 300,
    });
    await eventually(() => server.requests.filter(isStream).length >= 2, 3000, 'a second stream attempt');
    connection.stop();
    const [first, second] = server.requests.filter(isStream).map((request) => request.at);
    const waited = (second ?? 0) - (first ?? 0);
    assert.ok(
      waited >= 300 - SLACK_MS && waited < 600,
      `the stream was tried again after ${Math.round(waited)} ms`,
    );
  });

  it('takes the stream back once it holds, and stops polling', async () => {
    let broken = true;
    const server = fakeServer({
      onStream: (stream) => {
        if (broken) throw new TypeError('fetch failed');
        stream.push(snapshot('9'));
        return undefined;
      },
      poll: pollAnswer,
    });
    const connection = run(server.fetch, 'auto', { sseRetryFirstMs: 100 });
    await eventually(() => connection.state() === 'polling', 3000, 'polling');
    broken = false;
    await eventually(() => connection.state() === 'live', 3000, 'the stream again');
    const polls = server.requests.filter(isPoll).length;
    await new Promise((resolve) => setTimeout(resolve, 300));
    connection.stop();
    assert.equal(server.requests.filter(isPoll).length, polls, 'no poll while the stream holds');
  });

  it('reconnects by SSE alone, without polling, when a stream that held for seconds ends', async () => {
    const server = fakeServer({
      onStream: (stream) => {
        stream.push(snapshot('5'));
        setTimeout(() => stream.end(), 3500);
        return undefined;
      },
      poll: pollAnswer,
    });
    const connection = run(server.fetch, 'auto');
    await eventually(() => server.requests.filter(isStream).length >= 2, 6000, 'a second stream');
    await eventually(() => connection.state() === 'live', 3000, 'live again');
    connection.stop();
    assert.equal(server.requests.filter(isPoll).length, 0, 'no poll');
  });
});
