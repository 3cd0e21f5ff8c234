// A host Hono app (on its own hono version, within @jobtracker/server's peer range) that mounts the job
// API, mints tokens for its signed-in user and serves the consumer apps. Prints its origin as JSON.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { serve } from '@hono/node-server';
import { createJobTracker, JobFailure, signToken, withNodeStreams } from '@jobtracker/server';
import { Hono } from 'hono';

const appsDir = join(import.meta.dirname, '..', '..');
const secret = process.env.CONSUMER_SECRET ?? 'consumer-secret-of-at-least-32-characters';
const workerKey = process.env.CONSUMER_WORKER_KEY ?? 'consumer-worker-key';
const user = 'consumer-user';

const tracker = await createJobTracker({ db: process.env.CONSUMER_DB ?? ':memory:', secret, workerKey });
tracker.runner.handle('epm_generation', async (job, { progress, signal }) => {
  for (let step = 1; step <= 10; step++) {
    if (signal.aborted) throw new JobFailure('Cancelled', { code: 'cancelled' });
    await progress(step * 10, `Step ${step} of 10`);
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  return { url: `/done/${job.id}`, programId: job.id };
});

const host = new Hono();
const token = () => signToken({ sub: user, expiresInSeconds: 600 }, secret);
host.get('/token', (c) => c.json({ token: token() }));
host.route('/', tracker.app); // the job API answers under /api

const types: Record<string, string> = { '.js': 'text/javascript', '.css': 'text/css', '.html': 'text/html' };
async function file(path: string, type?: string): Promise<Response> {
  try {
    const body = await readFile(path);
    const contentType = type ?? types[path.slice(path.lastIndexOf('.'))] ?? 'application/octet-stream';
    return new Response(body, { headers: { 'Content-Type': `${contentType}; charset=utf-8` } });
  } catch {
    return new Response('Not found', { status: 404 });
  }
}
// The drop-in as the tarball ships it: jobtracker.min.js and the chunks/ beside it that it loads on use.
const dropIn = join(appsDir, 'node_modules', '@jobtracker', 'widget', 'dist');
host.get('/jobtracker.min.js', () => file(join(dropIn, 'jobtracker.min.js')));
host.get('/chunks/:name{[\\w-]+\\.js}', (c) => file(join(dropIn, 'chunks', c.req.param('name'))));
host.get('/html/', async () => {
  const page = await readFile(join(appsDir, 'html', 'index.html'), 'utf8');
  return new Response(page.replace('{{token}}', token()), {
    headers: { 'Content-Type': 'text/html; charset=utf-8' },
  });
});
host.get('/react/', () => file(join(appsDir, 'react', 'dist', 'index.html')));
host.get('/react/assets/:name', (c) => file(join(appsDir, 'react', 'dist', 'assets', c.req.param('name'))));

const server = serve({ fetch: withNodeStreams(host.fetch), port: 0, hostname: '127.0.0.1' }, (info) => {
  console.log(JSON.stringify({ origin: `http://127.0.0.1:${info.port}`, user, workerKey }));
});
const stop = () => server.close(() => void tracker.close().then(() => process.exit(0)));
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
