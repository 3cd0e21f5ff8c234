// What the example's server and workers agree on.
export const QUEUE = process.env.BULLMQ_QUEUE || 'programs';
/** The tracked jobs' type: the one examples/multi-page's pages list and badge. */
export const TYPE = 'demo.generate';
const url = new URL(process.env.REDIS_URL || 'redis://127.0.0.1:6379');
export const connection = { host: url.hostname, port: Number(url.port || 6379) };
