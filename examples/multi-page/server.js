// `npm start`: the jobtracker server (embedded SQLite under ./data, demo job types) and this
// server-rendered example app on the same port: http://localhost:8787/.
import { readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { readConfig, signToken, startServer, USAGE } from '@jobtracker/server';
import { COMPRESSIBLE_CONTENT_TYPE_REGEX, compress } from 'hono/compress';
import {
  analysisPage,
  layout,
  programPage,
  programsPage,
  settingsPage,
  wantsNotifications,
} from './pages.js';

const require = createRequire(import.meta.url);
const bundlePath = require.resolve('@jobtracker/widget/jobtracker.min.js');
// The same settings as the `jobtracker-server` CLI: environment variables or flags (README, Configuration).
// Without JOBTRACKER_SECRET they ask for dev mode by name (`devMode: true`), and the server says so loudly.
let config;
try {
  config = readConfig(process.argv.slice(2), process.env);
} catch (error) {
  console.error(`${error.message}\n\n${USAGE}`);
  process.exit(2);
}
const { help, ...options } = config;
if (help) {
  console.log(USAGE);
  process.exit(0);
}
const { secret } = options;
const user = 'demo';
// A 32×32 icon (PNG in an ICO), so browsers asking for /favicon.ico get no 404.
const FAVICON = Buffer.from(
  'AAABAAEAICAAAAEAIACOAAAAFgAAAIlQTkcNChoKAAAADUlIRFIAAAAgAAAAIAgGAAAAc3p69AAAAFVJREFUeNpjYEADnJm3/tMSM+AC' +
    'tLYYr0PobTmGIwbUAQNlOdwRow4YdcCoA0YdMGgdQA7IWfIGJx51wKgDRrPhqANGHTDqgMHrgNGe0aDonA5k9xwA8sdpKXWS5YYAAAAA' +
    'SUVORK5CYII=',
  'base64',
);
// An event stream must never pass through a compressor: it buffers, and job events would arrive late.
// hono's default filter already skips text/event-stream; the example says so itself, whatever hono does.
const isEventStream = (type) => /^\s*text\/event-stream/i.test(type);
const compressible = (type) => !isEventStream(type) && COMPRESSIBLE_CONTENT_TYPE_REGEX.test(type);

const server = await startServer({
  ...options,
  demo: true,
  extend(app) {
    // Compresses the routes added here: the pages and their scripts (the API's routes come before it).
    app.use('*', compress({ contentTypeFilter: compressible }));
    app.get('/favicon.ico', (c) =>
      c.body(FAVICON, 200, {
        'Content-Type': 'image/x-icon',
        'Content-Length': String(FAVICON.length),
        'Cache-Control': 'public, max-age=86400',
      }),
    );
    // The drop-in is a folder: jobtracker.min.js, and the chunks/ beside it that it loads when a page has a
    // <job-list>, <job-button> or <job-provider>. A chunk's name holds a hash of its content: cached for good.
    const bundle = readFileSync(bundlePath);
    const chunksDir = join(dirname(bundlePath), 'chunks');
    const chunks = new Map(
      readdirSync(chunksDir)
        .filter((name) => name.endsWith('.js'))
        .map((name) => [name, readFileSync(join(chunksDir, name))]),
    );
    const script = { 'Content-Type': 'text/javascript; charset=utf-8' };
    app.get('/assets/jobtracker.min.js', (c) =>
      c.body(bundle, 200, { ...script, 'Cache-Control': 'no-cache' }),
    );
    app.get('/assets/chunks/:name', (c) => {
      const chunk = chunks.get(c.req.param('name'));
      if (!chunk) return c.notFound();
      return c.body(chunk, 200, { ...script, 'Cache-Control': 'public, max-age=31536000, immutable' });
    });
    // Each page carries a short-lived token for its user when the server runs with a secret.
    const token = () => (secret ? signToken({ sub: user, expiresInSeconds: 900 }, secret) : undefined);
    const page = (title, body) => (c) =>
      c.html(
        layout({
          title,
          path: c.req.path,
          token: token(),
          body: body(c),
          notify: wantsNotifications(c.req.header('Cookie')),
        }),
      );
    const durationMs = Number(process.env.JOBTRACKER_DEMO_DURATION_MS ?? 20000);
    // The React example (examples/react, built by `npm run build`): a single-page app under /react/.
    const reactDir = new URL('../react/', import.meta.url);
    const reactApp = () => readFileSync(new URL('dist/app.js', reactDir));
    const reactPage = () =>
      readFileSync(new URL('index.html', reactDir), 'utf8').replace('__DURATION_MS__', String(durationMs));
    app.get('/react/app.js', (c) =>
      c.body(reactApp(), 200, { 'Content-Type': 'text/javascript; charset=utf-8' }),
    );
    app.get('/react', (c) => c.redirect('/react/'));
    app.get('/react/*', (c) => c.html(reactPage()));
    app.get(
      '/',
      page('Analysis', () => analysisPage({ durationMs })),
    );
    app.get('/programs', page('Programs', programsPage));
    app.get('/settings', page('Settings', settingsPage));
    app.get('/programs/:id', async (c) => {
      const job = await server.tracker.engine.get(user, c.req.param('id')).catch(() => null);
      const html = layout({
        title: job?.title ?? 'Program',
        path: '/programs',
        token: token(),
        body: programPage(job),
      });
      return c.html(html, job ? 200 : 404);
    });
  },
}).catch((error) => {
  const hint =
    error.code === 'EADDRINUSE'
      ? ` (is another copy running? Choose another port with PORT=… or --port)`
      : '';
  console.error(`jobtracker: could not start: ${error.message}${hint}`);
  process.exit(1);
});

console.log(
  `jobtracker example listening on ${server.url.replace('127.0.0.1', 'localhost')}/  (API at /api)`,
);
for (const signal of ['SIGINT', 'SIGTERM'])
  process.on(signal, () => server.close().then(() => process.exit(0)));
