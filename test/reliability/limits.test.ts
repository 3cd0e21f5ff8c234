import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { RunningServer } from '@jobtracker/server';
import { signToken } from '@jobtracker/server';
import { SECRET, startReliabilityServer } from './server.js';

const median = (values: number[]) =>
  [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] ?? Number.NaN;

// Promise 12: per-user caps on open streams and on job creation answer 429 with Retry-After, and other
// users go on as before; CORS answers only allow-listed origins.
const STREAMS = 5;
const BURST = 10;
const PER_MINUTE = 60;

describe('per-user limits', () => {
  let server: RunningServer;
  before(async () => {
    server = await startReliabilityServer({
      maxStreamsPerUser: STREAMS,
      createRate: { burst: BURST, perMinute: PER_MINUTE },
      corsOrigins: ['https://app.example'],
    });
  });
  after(async () => {
    await server.close();
  });
  const token = (sub: string) => signToken({ sub, expiresInSeconds: 600 }, SECRET);
  const create = async (who: string, scope: string) => {
    const started = performance.now();
    const response = await fetch(`${server.url}/api/jobs`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${token(who)}`, 'Content-Type': 'application/json' },
      body: JSON.stringify({ type: 'limited', scope }),
    });
    return {
      status: response.status,
      retryAfter: response.headers.get('retry-after'),
      body: (await response.json()) as { error?: { code: string } },
      ms: performance.now() - started,
    };
  };

  it('caps one user’s open streams with 429 and Retry-After, and not another user’s', async () => {
    const controllers: AbortController[] = [];
    const open = async (who: string) => {
      const controller = new AbortController();
      controllers.push(controller);
      return fetch(`${server.url}/api/jobs/stream`, {
        headers: { Authorization: `Bearer ${token(who)}` },
        signal: controller.signal,
      });
    };
    try {
      for (let i = 0; i < STREAMS; i++) assert.equal((await open('many-tabs')).status, 200);
      const refused = await open('many-tabs');
      assert.equal(refused.status, 429);
      assert.equal(refused.headers.get('retry-after'), '10');
      assert.equal(((await refused.json()) as { error: { code: string } }).error.code, 'too_many_streams');
      assert.equal((await open('someone-else')).status, 200, 'another user is not capped');
      controllers[0]?.abort();
      await new Promise((resolve) => setTimeout(resolve, 200));
      assert.equal((await open('many-tabs')).status, 200, 'a closed stream frees its place');
    } finally {
      for (const controller of controllers) controller.abort();
    }
  });

  it('limits one user’s job creation with 429 and Retry-After, while another user’s requests go on unslowed', async (t) => {
    const before: number[] = [];
    for (let i = 0; i < 20; i++) before.push((await create(`calm-${i}`, 'x')).ms);
    // The bucket refills one token a second: a slow machine may let one more in while a flood lasts.
    const refilledDuring = async <T>(work: () => Promise<T>) => {
      const started = Date.now();
      const result = await work();
      return { result, refills: Math.floor(((Date.now() - started) / 60_000) * PER_MINUTE) + 1 };
    };
    const first = await refilledDuring(() =>
      Promise.all(Array.from({ length: 60 }, (_, i) => create('flooder', `f${i}`))),
    );
    const flood = first.result;
    const accepted = flood.filter((answer) => answer.status === 201).length;
    const refused = flood.filter((answer) => answer.status === 429);
    assert.ok(accepted >= BURST && accepted <= BURST + first.refills, `the burst is accepted (${accepted})`);
    assert.equal(refused.length, 60 - accepted);
    for (const answer of refused) {
      assert.equal(answer.body.error?.code, 'rate_limited');
      assert.ok(Number(answer.retryAfter) >= 1, `Retry-After ${answer.retryAfter}`);
    }
    const during: number[] = [];
    const flooding = refilledDuring(() =>
      Promise.all(Array.from({ length: 200 }, (_, i) => create('flooder', `g${i}`))),
    );
    for (let i = 0; i < 20; i++) {
      const answer = await create(`calm-during-${i}`, 'x');
      assert.equal(answer.status, 201, 'another user is not limited');
      during.push(answer.ms);
    }
    const second = await flooding;
    const floodAnswers = second.result;
    const slipped = floodAnswers.filter((answer) => answer.status !== 429);
    assert.ok(
      slipped.every((answer) => answer.status === 201) && slipped.length <= second.refills,
      `only refilled tokens pass during the flood (${slipped.length} of ${floodAnswers.length})`,
    );
    t.diagnostic(
      `flooder: ${accepted + slipped.length} accepted, ${refused.length + floodAnswers.length - slipped.length} refused with 429; another user's create p50 ${median(before).toFixed(1)} ms before, ${median(during).toFixed(1)} ms during the flood`,
    );
  });

  it('answers CORS only for allow-listed origins', async () => {
    const preflight = (origin: string) =>
      fetch(`${server.url}/api/jobs`, {
        method: 'OPTIONS',
        headers: { Origin: origin, 'Access-Control-Request-Method': 'POST' },
      });
    assert.equal(
      (await preflight('https://app.example')).headers.get('access-control-allow-origin'),
      'https://app.example',
    );
    assert.equal((await preflight('https://evil.example')).headers.get('access-control-allow-origin'), null);
    const stream = await fetch(`${server.url}/api/jobs/stream`, {
      headers: { Authorization: `Bearer ${token('cors')}`, Origin: 'https://evil.example' },
    });
    assert.equal(stream.headers.get('access-control-allow-origin'), null, 'not on the stream either');
    await stream.body?.cancel();
  });
});
