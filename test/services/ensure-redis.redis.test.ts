// `npm test` starts the Redis the BullMQ suites need when it is stopped (scripts/ensure-redis.mjs), as it
// does PostgreSQL. Checked on a Redis of its own, on a free loopback port, so that the suites' Redis is
// never stopped under them.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createServer } from 'node:net';
import { after, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';

const SCRIPT = fileURLToPath(new URL('../../scripts/ensure-redis.mjs', import.meta.url));

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  await new Promise((resolve) => server.close(resolve));
  if (!address || typeof address === 'string') throw new Error('no port');
  return address.port;
}

const ping = (port: number) =>
  spawnSync('redis-cli', ['-h', '127.0.0.1', '-p', String(port), 'ping'], { encoding: 'utf8' }).stdout.trim();

const ensure = (port: number) =>
  spawnSync(process.execPath, [SCRIPT], {
    encoding: 'utf8',
    env: { ...process.env, JOBTRACKER_TEST_REDIS_URL: `redis://127.0.0.1:${port}` },
  });

describe('scripts/ensure-redis.mjs', () => {
  let port = 0;
  after(() => {
    if (port) spawnSync('redis-cli', ['-h', '127.0.0.1', '-p', String(port), 'shutdown', 'nosave']);
  });

  it('starts a stopped Redis on loopback, keeping nothing on disk, and leaves a running one alone', async () => {
    port = await freePort();
    assert.notEqual(ping(port), 'PONG', 'nothing answers on the port yet');
    const first = ensure(port);
    assert.equal(first.status, 0, first.stderr);
    assert.match(first.stdout, /does not answer .*; starting redis-server/);
    assert.match(first.stdout, new RegExp(`Redis answers at 127\\.0\\.0\\.1:${port}\\.`));
    assert.equal(ping(port), 'PONG');
    const config = (name: string) =>
      spawnSync('redis-cli', ['-h', '127.0.0.1', '-p', String(port), 'config', 'get', name], {
        encoding: 'utf8',
      }).stdout.split('\n')[1];
    assert.equal(config('save'), '', 'no snapshots');
    assert.equal(config('appendonly'), 'no', 'no append-only file');
    assert.equal(config('bind'), '127.0.0.1 -::1', 'loopback only');

    const again = ensure(port);
    assert.equal(again.status, 0, again.stderr);
    assert.doesNotMatch(again.stdout, /starting/, 'a running Redis is not started again');
    assert.match(again.stdout, /Redis answers at/);
  });
});
