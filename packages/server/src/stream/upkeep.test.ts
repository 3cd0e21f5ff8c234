import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { type KeptStream, StreamUpkeep } from './upkeep.js';

class FakeStream implements KeptStream {
  heartbeats = 0;
  closedAt: number | null = null;
  constructor(
    private readonly streams: Set<KeptStream>,
    public lastFrameAt: number,
    readonly expiresAt: number | null = null,
  ) {
    streams.add(this);
  }
  heartbeat() {
    this.heartbeats++;
  }
  close() {
    this.closedAt ??= Date.now();
    this.streams.delete(this);
  }
}

describe('stream upkeep', () => {
  it('sends one heartbeat per round to every quiet stream, spread over slices, and skips streams written to recently', async () => {
    const streams = new Set<KeptStream>();
    const quiet = Array.from({ length: 3000 }, () => new FakeStream(streams, 0));
    const busy = new FakeStream(streams, 0);
    const upkeep = new StreamUpkeep(streams, { heartbeatMs: 200, expirySweepMs: 10_000, sliceMs: 1 });
    upkeep.start();
    const writing = setInterval(() => {
      busy.lastFrameAt = Date.now();
    }, 20);
    try {
      await sleep(300);
      assert.ok(
        quiet.every((stream) => stream.heartbeats === 1),
        'each quiet stream got one heartbeat in the first round',
      );
      assert.equal(busy.heartbeats, 0, 'a stream that got a frame within half the interval needs none');
      await sleep(200);
      assert.ok(
        quiet.every((stream) => stream.heartbeats === 2),
        'each quiet stream got one more in the second round',
      );
      assert.equal(busy.heartbeats, 0);
    } finally {
      clearInterval(writing);
      upkeep.stop();
    }
  });

  it('does not hold the event loop for a whole round', async () => {
    const streams = new Set<KeptStream>();
    const many = Array.from({ length: 20_000 }, () => new FakeStream(streams, 0));
    const upkeep = new StreamUpkeep(streams, { heartbeatMs: 50, expirySweepMs: 10_000, sliceMs: 1 });
    upkeep.start();
    try {
      await sleep(50);
      let between = 0;
      while (many.some((stream) => stream.heartbeats === 0)) {
        between++;
        await new Promise((resolve) => setImmediate(resolve));
      }
      assert.ok(between > 1, `the round ran in slices (other work ran ${between} times in between)`);
    } finally {
      upkeep.stop();
    }
  });

  it('ends a stream within the sweep interval of its token’s expiry, and no other', async () => {
    const streams = new Set<KeptStream>();
    const expiresAt = Date.now() + 100;
    const expiring = new FakeStream(streams, Date.now(), expiresAt);
    const later = new FakeStream(streams, Date.now(), Date.now() + 60_000);
    const forever = new FakeStream(streams, Date.now(), null);
    const upkeep = new StreamUpkeep(streams, { heartbeatMs: 60_000, expirySweepMs: 25 });
    upkeep.start();
    try {
      await sleep(80);
      assert.equal(expiring.closedAt, null, 'still open before its expiry');
      await sleep(120);
      assert.ok(expiring.closedAt !== null, 'ended after its expiry');
      assert.ok(expiring.closedAt >= expiresAt, 'not before its expiry');
      assert.ok(
        expiring.closedAt <= expiresAt + 25 + 40,
        `ended ${expiring.closedAt - expiresAt} ms after expiry`,
      );
      assert.equal(later.closedAt, null);
      assert.equal(forever.closedAt, null);
    } finally {
      upkeep.stop();
    }
  });
});
