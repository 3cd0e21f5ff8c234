import { spawnSync } from 'node:child_process';

/** The Redis the BullMQ suites use: 127.0.0.1:6379, or JOBTRACKER_TEST_REDIS_URL. */
export const REDIS_URL = process.env.JOBTRACKER_TEST_REDIS_URL || 'redis://127.0.0.1:6379';
const url = new URL(REDIS_URL);
export const connection = { host: url.hostname || '127.0.0.1', port: Number(url.port || 6379) };

const answers = () =>
  spawnSync('redis-cli', ['-h', connection.host, '-p', String(connection.port), 'ping'], {
    encoding: 'utf8',
  }).stdout?.trim() === 'PONG';

/** Starts the local Redis when it does not answer (as scripts/ensure-redis.mjs does); throws if it still does not. */
export function ensureRedis() {
  if (answers()) return;
  spawnSync('node', [new URL('../../../../scripts/ensure-redis.mjs', import.meta.url).pathname], {
    stdio: 'inherit',
  });
  if (!answers()) throw new Error(`Redis does not answer at ${connection.host}:${connection.port}.`);
}
