import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { eventually, signTestToken } from '@jobtracker/test-support/tokens';
import { fakeServer, isPoll, pollAnswer, run, snapshot } from '../testing/fake-job-api.js';
import { backoff } from './connection.js';

describe('connection', () => {
  it('keeps the stream after a 401 that a fresh token cures', async () => {
    let issued = 0;
    const server = fakeServer({
      onStream: (stream) => {
        if (stream.headers.get('authorization') === 'Bearer first') return new Response('', { status: 401 });
        stream.push(snapshot('2'));
        return undefined;
      },
      poll: pollAnswer,
    });
    const connection = run(server.fetch, 'auto', { token: () => (issued++ === 0 ? 'first' : 'fresh') });
    await eventually(() => connection.state() === 'live', 3000, 'live');
    connection.stop();
    assert.deepEqual(
      server.requests.map((r) => [r.path, r.headers.get('authorization')]),
      [
        ['/api/jobs/stream', 'Bearer first'],
        ['/api/jobs/stream', 'Bearer fresh'],
      ],
      'the stream is asked again with a fresh token, and nothing is polled',
    );
  });

  it('keeps trying the stream, and reports the error, while neither the stream nor a poll answers', async () => {
    const paths: string[] = [];
    const fetch = (async (input: RequestInfo | URL) => {
      paths.push(new URL(String(input)).pathname);
      throw new TypeError('fetch failed');
    }) as typeof globalThis.fetch;
    const connection = run(fetch, 'auto');
    await eventually(() => paths.filter((path) => path.endsWith('/stream')).length >= 5, 3000, 'retries');
    connection.stop();
    assert.equal(connection.state(), 'error');
    assert.equal(connection.statuses.at(-1)?.error?.code, 'network');
    assert.ok(
      connection.statuses.every((s) => s.state !== 'polling'),
      'it never says it is polling',
    );
  });
  it('asks the token function again before a request when its token expires within 30 s', async () => {
    for (const expiresIn of [10, 600]) {
      const server = fakeServer({ onStream: () => undefined, poll: pollAnswer });
      const issued: string[] = [];
      const token = () => {
        const fresh = signTestToken(`user-${issued.length}`, 'secret', expiresIn);
        issued.push(fresh);
        return fresh;
      };
      const connection = run(server.fetch, 'poll', { token });
      await eventually(() => server.requests.filter(isPoll).length >= 4, 3000, 'four polls');
      connection.stop();
      const sent = server.requests.filter(isPoll).map((request) => request.headers.get('authorization'));
      if (expiresIn === 10) {
        assert.deepEqual(
          sent,
          issued.slice(0, sent.length).map((t) => `Bearer ${t}`),
          'a token about to expire is replaced before every request',
        );
      } else {
        assert.equal(issued.length, 1, 'a token far from expiry is reused');
        assert.deepEqual(new Set(sent), new Set([`Bearer ${issued[0]}`]));
      }
    }
  });

  it('backs off exponentially with full jitter, capped at 2.5 s through a short outage and 30 s after', () => {
    assert.deepEqual(
      [1, 2, 3, 4, 5, 24, 25].map((failures) => backoff(failures, () => 1)),
      [500, 1000, 2000, 2500, 2500, 2500, 30_000],
    );
    assert.equal(
      backoff(1, () => 1),
      500,
    );
    assert.equal(
      backoff(3, () => 1),
      2000,
    );
    assert.equal(
      backoff(30, () => 1),
      30_000,
    );
    assert.equal(
      backoff(3, () => 0),
      0,
    );
    assert.equal(
      backoff(3, () => 0.5),
      1000,
    );
  });
});
