import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { tokenFor } from '@jobtracker/test-support/server';
import { request, type Served, servedTwice, statusOf, undated } from '../testing/served-twice.js';

/** A stream's answer up to its `ready` event (then the connection is dropped), or a refusal's whole answer. */
function openStream(port: number, text: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    let received = '';
    socket.setEncoding('latin1');
    socket.on('data', (chunk: string) => {
      received += chunk;
      if (/event: ready\ndata: [^\n]*\n\n/.test(received)) {
        socket.destroy();
        resolve(received);
      }
    });
    socket.on('end', () => resolve(received));
    socket.on('error', reject);
    socket.write(text);
  });
}

/** The same stream request to both servers, one after the other. */
async function bothStreams(served: Served, text: string) {
  const before = served.answered;
  const fast = await openStream(served.fastPort, text);
  const took = served.answered > before;
  const plain = await openStream(served.plainPort, text);
  return { fast: undated(fast), plain: undated(plain), took };
}

const bearer = (token: string) => ({ Authorization: `Bearer ${token}` });

async function createJob(served: Served, owner: string, scope: string) {
  const created = await served.tracker.app.request('/api/jobs', {
    method: 'POST',
    headers: { ...bearer(tokenFor(owner)), 'Content-Type': 'application/json' },
    body: JSON.stringify({ type: 'stream.test', scope }),
  });
  assert.equal(created.status, 201);
}

describe('a job stream opened before Hono', () => {
  let served: Served;
  const alice = tokenFor('alice');
  before(async () => {
    served = await servedTwice({ maxStreamsPerUser: 3 });
    await createJob(served, 'alice', 'first');
    await createJob(served, 'alice', 'second');
  });
  after(() => served.close());

  it('opens the stream the route opens: the same head, snapshot or replay, and ready', async () => {
    const cursor = served.tracker.engine.cursor;
    const cases: [string, Record<string, string>][] = [
      ['/api/jobs/stream', bearer(alice)],
      ['/api/jobs/stream?', bearer(alice)],
      ['/api/jobs/stream?since=1', bearer(alice)],
      [`/api/jobs/stream?since=${cursor}`, bearer(alice)],
      ['/api/jobs/stream', { ...bearer(alice), 'Last-Event-ID': String(cursor) }],
      ['/api/jobs/stream?since=1', { ...bearer(alice), 'Last-Event-ID': '' }],
      ['/api/jobs/stream', { ...bearer(tokenFor('nobody')) }],
    ];
    for (const [path, headers] of cases) {
      const { fast, plain, took } = await bothStreams(served, request(path, headers));
      assert.ok(took, `${path} ${JSON.stringify(headers)}: opened before Hono`);
      assert.equal(statusOf(plain), 200, plain);
      assert.equal(fast, plain, `${path} ${JSON.stringify(headers)}`);
    }
  });

  it('leaves every refusal to the app, which answers it as always', async () => {
    const texts = [
      request('/api/jobs/stream', {}),
      request('/api/jobs/stream', bearer(`${alice}x`)),
      request('/api/jobs/stream?since=soon', bearer(alice)),
      request('/api/jobs/stream?since=1&since=2', bearer(alice)),
      request('/api/jobs/stream?from=1', bearer(alice)),
      request('/api/jobs/stream', { ...bearer(alice), 'Last-Event-ID': 'abc' }),
      request('/api/jobs/stream', { ...bearer(alice), 'Last-Event-ID': '1' }).replace(
        'Connection: close',
        'Last-Event-ID: 2\r\nConnection: close',
      ),
      request('/api/jobs/stream', bearer(alice), 'HEAD'),
    ];
    for (const text of texts) {
      const { fast, plain, took } = await bothStreams(served, text);
      assert.equal(took, false, text);
      assert.equal(fast, plain, text);
    }
  });

  it('leaves a user at the stream limit to the app (429)', async () => {
    const carol = tokenFor('carol');
    const held = await Promise.all(
      [1, 2, 3].map(
        () =>
          new Promise<ReturnType<typeof connect>>((resolve) => {
            const socket = connect(served.fastPort, '127.0.0.1');
            socket.setEncoding('latin1');
            socket.on('data', (chunk: string) => chunk.includes('event: ready') && resolve(socket));
            socket.write(request('/api/jobs/stream', bearer(carol)).replace('Connection: close\r\n', ''));
          }),
      ),
    );
    try {
      const { fast, plain, took } = await bothStreams(served, request('/api/jobs/stream', bearer(carol)));
      assert.equal(took, false);
      assert.equal(statusOf(plain), 429);
      assert.equal(fast, plain);
    } finally {
      for (const socket of held) socket.destroy();
    }
  });
});

describe('a job stream opened before Hono, with CORS', () => {
  it('carries the headers the CORS middleware gives the route’s stream', async () => {
    for (const origins of [['*'], ['http://a.example']]) {
      const served = await servedTwice({ corsOrigins: origins });
      try {
        for (const origin of [undefined, 'http://a.example', 'http://b.example']) {
          const headers: Record<string, string> = bearer(tokenFor('alice'));
          if (origin) headers.Origin = origin;
          const { fast, plain, took } = await bothStreams(served, request('/api/jobs/stream', headers));
          assert.ok(took, `${origins} ${origin}: opened before Hono`);
          assert.equal(fast, plain, `${origins} ${origin}`);
        }
      } finally {
        await served.close();
      }
    }
  });
});

describe('a stream whose catch-up is slow', () => {
  it('sends its head and preamble without waiting for the snapshot', async () => {
    const served = await servedTwice();
    const { engine } = served.tracker;
    const snapshot = engine.snapshot.bind(engine);
    engine.snapshot = async (ownerId) => {
      await new Promise((resolve) => setTimeout(resolve, 1000));
      return snapshot(ownerId);
    };
    try {
      const socket = connect(served.fastPort, '127.0.0.1');
      socket.setEncoding('latin1');
      const opened = Date.now();
      const firstBytes = new Promise<[number, string]>((resolve) =>
        socket.once('data', (chunk: string) => resolve([Date.now() - opened, chunk])),
      );
      socket.write(request('/api/jobs/stream', bearer(tokenFor('alice'))));
      const [ms, chunk] = await firstBytes;
      socket.destroy();
      assert.match(chunk, /^HTTP\/1\.1 200 OK[\s\S]*retry: \d+/, 'the head and the preamble');
      assert.doesNotMatch(chunk, /event: snapshot/, 'not the snapshot yet');
      assert.ok(ms < 800, `the first bytes came after ${ms} ms`);
    } finally {
      engine.snapshot = snapshot;
      await served.close();
    }
  });
});
