// The seed scene (examples/multi-page's pages) with the work done by BullMQ workers: "Generate program"
// adds a job to the `programs` queue on Redis, worker.js processes it, and the bridge started here
// (trackQueue) shows it to its user in <job-tracker>, <job-badge> and <job-list>. See README.md.
import { readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { trackQueue } from '@jobtracker/bullmq';
import { readConfig, signToken, startServer } from '@jobtracker/server';
import { Queue } from 'bullmq';
import { layout, programPage, programsPage } from '../multi-page/pages.js';
import { connection, QUEUE, TYPE } from './shared.js';

const require = createRequire(import.meta.url);
const bundlePath = require.resolve('@jobtracker/widget/jobtracker.min.js');
const user = 'demo';
const config = readConfig(process.argv.slice(2), process.env);
const { help: _help, ...options } = config;
const workerKey = options.workerKey ?? process.env.JOBTRACKER_WORKER_KEY;
if (!workerKey) {
  console.error('Set JOBTRACKER_WORKER_KEY (any long random string): the bridge reports with it.');
  process.exit(2);
}
const queue = new Queue(QUEUE, { connection });

const analysisPage = () => `
<section>
  <h2>Market analysis: Q3 growth</h2>
  <p>Turn this analysis into a full program. A BullMQ worker generates it: feel free to keep browsing.</p>
  <form method="post" action="/generate"><input type="hidden" name="title" value="Q3 growth program">
    <button class="primary">Generate program</button></form>
  <form method="post" action="/generate"><input type="hidden" name="title" value="Risky program">
    <input type="hidden" name="flaky" value="1">
    <button class="secondary">Generate (fails once, then retries)</button></form>
</section>`;

const server = await startServer({
  ...options,
  workerKey,
  extend(app) {
    const bundle = readFileSync(bundlePath);
    const chunksDir = join(dirname(bundlePath), 'chunks');
    const script = { 'Content-Type': 'text/javascript; charset=utf-8' };
    app.get('/assets/jobtracker.min.js', (c) => c.body(bundle, 200, script));
    app.get('/assets/chunks/:name', (c) => {
      const name = c.req.param('name');
      if (!readdirSync(chunksDir).includes(name)) return c.notFound();
      return c.body(readFileSync(join(chunksDir, name)), 200, script);
    });
    const token = () =>
      options.secret ? signToken({ sub: user, expiresInSeconds: 900 }, options.secret) : undefined;
    const page = (title, body) => (c) =>
      c.html(layout({ title, path: c.req.path, token: token(), body: body(c) }));
    app.get('/', page('Analysis', analysisPage));
    app.get('/programs', page('Programs', programsPage));
    app.get('/programs/:id', async (c) => {
      const job = await server.tracker.engine.get(user, c.req.param('id')).catch(() => null);
      return c.html(
        layout({ title: job?.title ?? 'Program', path: '/programs', token: token(), body: programPage(job) }),
        job ? 200 : 404,
      );
    });
    // The host's own route: it enqueues the work in BullMQ, as the app did before it had a tracker.
    app.post('/generate', async (c) => {
      const form = await c.req.parseBody();
      await queue.add(
        'generate',
        { userId: user, title: String(form.title ?? 'Program'), flaky: form.flaky === '1' },
        { attempts: 3, backoff: { type: 'fixed', delay: 2000 }, removeOnComplete: 100, removeOnFail: 100 },
      );
      return c.redirect('/');
    });
  },
});

const tracker = trackQueue(queue, {
  baseUrl: `${server.url}/api`,
  workerKey,
  type: TYPE,
  owner: (job) => job.data.userId,
  title: (job) => job.data.title,
});
await tracker.ready;
console.log(`jobtracker BullMQ example listening on ${server.url.replace('127.0.0.1', 'localhost')}/`);
for (const signal of ['SIGINT', 'SIGTERM']) {
  process.on(signal, async () => {
    await tracker.close();
    await queue.close();
    await server.close();
    process.exit(0);
  });
}
