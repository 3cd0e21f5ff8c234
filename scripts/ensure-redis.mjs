#!/usr/bin/env node
// Makes sure the BullMQ suites (`*.redis.test.ts`) have a Redis: the one at JOBTRACKER_TEST_REDIS_URL, else
// 127.0.0.1:6379. When it does not answer and this machine has redis-server, it starts one (no persistence,
// loopback only). It never fails `npm test` itself: the suites then fail with their own clear message.
import { spawnSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';

const url = new URL(process.env.JOBTRACKER_TEST_REDIS_URL || 'redis://127.0.0.1:6379');
const host = url.hostname || '127.0.0.1';
const port = url.port || '6379';
const ready = () =>
  spawnSync('redis-cli', ['-h', host, '-p', port, 'ping'], { encoding: 'utf8' }).stdout?.trim() === 'PONG';
const wait = (ms) => Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);

if (ready()) console.log(`Redis answers at ${host}:${port}.`);
else if (
  (host === '127.0.0.1' || host === 'localhost') &&
  spawnSync('redis-server', ['--version']).status === 0
) {
  console.log(`Redis does not answer at ${host}:${port}; starting redis-server.`);
  for (const dir of ['/var/lib/redis', '/var/log/redis']) {
    try {
      mkdirSync(dir, { recursive: true });
    } catch {}
  }
  spawnSync(
    'redis-server',
    [
      '--daemonize',
      'yes',
      '--bind',
      '127.0.0.1',
      '-::1',
      '--port',
      port,
      '--save',
      '',
      '--appendonly',
      'no',
      '--dir',
      '/var/lib/redis',
      '--logfile',
      '/var/log/redis/ci.log',
    ],
    { stdio: 'inherit' },
  );
  for (let tries = 0; tries < 20 && !ready(); tries++) wait(250);
  console.log(ready() ? `Redis answers at ${host}:${port}.` : `✗ Redis did not start at ${host}:${port}.`);
} else {
  console.error(`\n✗ Redis does not answer at ${host}:${port}: the BullMQ suites will fail.\n`);
}
