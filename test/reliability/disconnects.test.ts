import assert from 'node:assert/strict';
import { connect, type Socket } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import type { RunningServer } from '@jobtracker/server';
import { signToken } from '@jobtracker/server';
import { delay, eventually } from '@jobtracker/test-support/browser-assert';
import { SECRET, startReliabilityServer } from './server.js';

// Promise 6: abrupt client disconnects leave no subscriber, timer, socket or memory behind.
const FULL = process.env.JOBTRACKER_RELIABILITY_FULL === '1';
const CYCLES = FULL ? 10 : 5;
const PER_CYCLE = FULL ? 1000 : 200;

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

/**
 * Timers started while `track` is on and neither fired nor cleared since: each stream's token-expiry timer
 * is unref'd, so `getActiveResourcesInfo` would not list a forgotten one.
 */
function trackTimers() {
  const pending = new Set<unknown>();
  const { setTimeout: originalSet, clearTimeout: originalClear } = globalThis;
  globalThis.setTimeout = ((callback: (...args: unknown[]) => void, ms?: number, ...args: unknown[]) => {
    const handle = originalSet(
      (...inner: unknown[]) => {
        pending.delete(handle);
        callback(...inner);
      },
      ms,
      ...args,
    );
    pending.add(handle);
    return handle;
  }) as typeof setTimeout;
  globalThis.clearTimeout = ((handle?: Parameters<typeof clearTimeout>[0]) => {
    pending.delete(handle);
    originalClear(handle);
  }) as typeof clearTimeout;
  return {
    pending: () => pending.size,
    stop() {
      globalThis.setTimeout = originalSet;
      globalThis.clearTimeout = originalClear;
    },
  };
}

const resources = (kind: string) => process.getActiveResourcesInfo().filter((name) => name === kind).length;

/** Opens a raw SSE request and resolves once the stream said `ready` (the server holds it then). */
function openStream(port: number, token: string): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    let seen = '';
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => {
      seen += chunk;
      if (seen.includes('event: ready')) resolve(socket);
    });
    socket.on('error', reject);
    socket.write(
      `GET /api/jobs/stream HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer ${token}\r\nAccept: text/event-stream\r\n\r\n`,
    );
  });
}

describe('abrupt client disconnects', () => {
  let server: RunningServer;
  before(async () => {
    server = await startReliabilityServer({
      heartbeatMs: 200,
    });
  });
  after(async () => {
    await server.close();
  });

  // Fifty users with one token each, as browsers reuse a token until they refresh it.
  const tokens = Array.from({ length: 50 }, (_, i) =>
    signToken({ sub: `user-${i}`, expiresInSeconds: 600 }, SECRET),
  );

  async function cycle(count: number) {
    const sockets: Socket[] = [];
    for (let start = 0; start < count; start += 100) {
      const batch = Array.from(
        { length: Math.min(100, count - start) },
        (_, i) => tokens[(start + i) % tokens.length] as string,
      );
      sockets.push(...(await Promise.all(batch.map((token) => openStream(server.port, token)))));
    }
    assert.equal(
      server.tracker.streams.connections.size,
      count,
      `every stream is held (${sockets.length} ready)`,
    );
    // Half reset the connection (RST), half just vanish (FIN without reading on): both are abrupt.
    for (const [i, socket] of sockets.entries()) {
      if (i % 2 === 0) socket.resetAndDestroy();
      else socket.destroy();
    }
    await eventually(() => server.tracker.streams.connections.size === 0, 10_000, 'streams to be released');
    await eventually(() => server.tracker.engine.hub.subscriberCount() === 0, 10_000, 'subscriptions to end');
  }

  it(`returns to its baseline after ${CYCLES} cycles of ${PER_CYCLE} abrupt disconnects`, async (t) => {
    // Warm-up: the first cycles fill caches (code, verified tokens) that later ones reuse.
    await cycle(PER_CYCLE);
    await cycle(PER_CYCLE);
    await delay(300);
    gc();
    const baseline = { heap: process.memoryUsage().heapUsed, sockets: resources('TCPSocketWrap') };
    const timers = trackTimers();
    try {
      for (let round = 0; round < CYCLES; round++) await cycle(PER_CYCLE);
      // The shared heartbeat stops at its next beat once no stream is left.
      await delay(500);
      await eventually(() => resources('TCPSocketWrap') <= baseline.sockets, 5000, 'server sockets to close');
    } finally {
      timers.stop();
    }
    gc();
    const heapGrowth = process.memoryUsage().heapUsed - baseline.heap;
    const disconnects = CYCLES * PER_CYCLE;
    t.diagnostic(
      `${disconnects} abrupt disconnects in ${CYCLES} cycles (half RST, half FIN): streams 0, subscriptions 0, ` +
        `timers left ${timers.pending()}, sockets ${resources('TCPSocketWrap')} (baseline ${baseline.sockets}), ` +
        `heap ${(heapGrowth / 1024).toFixed(0)} KiB over baseline (${Math.round(heapGrowth / disconnects)} B per disconnect)`,
    );
    assert.ok(
      timers.pending() <= 1,
      `timers left behind: ${timers.pending()} (the engine's flush timer may be one)`,
    );
    assert.ok(resources('TCPSocketWrap') <= baseline.sockets, 'no socket left behind');
    // An open stream holds about 7.5 KB of heap. The heap after a GC moves by up to a few hundred KiB
    // however many disconnects came before (1,000 or 10,000 measured alike), so allow that much once;
    // a stream left behind in full, or a few hundred bytes of each, still shows.
    const allowed = 2 * 1024 * 1024 + disconnects * 256;
    assert.ok(
      heapGrowth < allowed,
      `heap grew ${heapGrowth} B over ${disconnects} disconnects (allowed ${allowed})`,
    );
  });
});
