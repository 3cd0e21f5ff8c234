import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { type RunningServer, startServer } from '@jobtracker/server';
import { CHROME_PATH, CHROMIUM_ARGS } from '@jobtracker/test-support/chromium';
import { type Browser, chromium } from 'playwright-core';

// Promise 10: hostile text in jobs (message, title, error, type, result URL) renders as text in the real
// elements: no script runs, and every link is http(s) or relative.
const FULL = process.env.JOBTRACKER_RELIABILITY_FULL === '1';
/** The drop-in: jobtracker.min.js and the chunks/ beside it (this page's <job-list> loads from one). */
const DROP_IN = fileURLToPath(new URL('../../packages/widget/dist/', import.meta.url));

/** Each payload, if it ever ran, would call `pwned()`; the page counts the calls. */
const markup = [
  '<img src=x onerror=pwned()>',
  '<svg onload=pwned()>',
  '<script>pwned()</script>',
  '"><script>pwned()</script>',
  "'><img src=x oNeRrOr=pwned()>",
  '<iframe srcdoc="<script>parent.pwned()</script>">',
  '&lt;img src=x onerror=pwned()&gt;',
  '&#60;script&#62;pwned()&#60;/script&#62;',
  '<a href="javascript:pwned()">x</a>',
  '<details open ontoggle=pwned()>',
  '<body onload=pwned()>',
  '<math><mtext><table><mglyph><style><img src=x onerror=pwned()>',
  `\${pwned()}`,
  '{{constructor.constructor("pwned()")()}}',
  '<style>@import "javascript:pwned()"</style>',
  '\u003cimg src=x onerror=pwned()\u003e',
];
const urls = [
  'javascript:pwned()',
  'JaVaScRiPt:pwned()',
  ' javascript:pwned()',
  'java\tscript:pwned()',
  'java\nscript:pwned()',
  '&#106;avascript:pwned()',
  'javascript&colon;pwned()',
  'data:text/html,<script>pwned()</script>',
  'DATA:text/html;base64,PHNjcmlwdD5wd25lZCgpPC9zY3JpcHQ+',
  'vbscript:pwned()',
  'file:///etc/passwd',
  '//evil.example/x',
  '\\\\evil.example\\x',
  'blob:https://evil.example/x',
];

const page = `<!doctype html><html><head><meta charset="utf-8">
<meta name="jobtracker-endpoint" content="/api">
<script>window.pwnedCalls = 0; window.pwned = () => { window.pwnedCalls++; };</script>
<script type="module" src="/assets/jobtracker.min.js"></script></head>
<body><job-badge></job-badge><job-list status="active,completed,failed" limit="500"></job-list>
<job-tracker></job-tracker></body></html>`;

describe('hostile content in the real elements (Chromium)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'jobtracker-hostile-'));
  let server: RunningServer;
  let browser: Browser;
  before(async () => {
    server = await startServer({
      port: 0,
      db: `file:${join(dir, 'jobs.db')}`,
      devMode: true,
      onError: () => {},
      extend(app) {
        const script = (path: string) =>
          new Response(readFileSync(join(DROP_IN, path)), { headers: { 'Content-Type': 'text/javascript' } });
        app.get('/assets/jobtracker.min.js', () => script('jobtracker.min.js'));
        app.get('/assets/chunks/:name{[\\w-]+\\.js}', (c) => script(join('chunks', c.req.param('name'))));
        app.get('/', (c) => c.html(page));
      },
    });
    browser = await chromium.launch({
      executablePath: CHROME_PATH,
      args: CHROMIUM_ARGS,
    });
  });
  after(async () => {
    await browser?.close();
    await server?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('runs no script and renders no link but http(s) or relative ones', async (t) => {
    const api = (path: string, body: unknown) =>
      fetch(`${server.url}/api${path}`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify(body),
      }).then(async (response) => ({
        status: response.status,
        json: (await response.json()) as Record<string, unknown>,
      }));
    // Every payload goes into every text field a job has: title, message, error, result summary and URL,
    // and the type where the type's rules let it in. Dev mode: every caller is the user "demo".
    // Each payload as it is, and broken out of the contexts a renderer might put it in (an attribute, a
    // comment, a title, a template literal); the full run adds upper- and alternating-case variants.
    const contexts = ['', '"', "'", '`', '--><', '</title>', '</textarea>', '\\"', '</script>'];
    const wrapped = markup.flatMap((payload) => contexts.map((context) => `${context}${payload}`));
    // The call itself keeps its case, so a payload that ran would still be counted.
    const cased = wrapped.flatMap((text) =>
      [
        text.toUpperCase(),
        [...text].map((char, i) => (i % 2 ? char.toUpperCase() : char.toLowerCase())).join(''),
      ].map((variant) => variant.replace(/pwned\(\)/gi, 'pwned()')),
    );
    const texts = FULL ? [...wrapped, ...urls, ...cased] : [...wrapped, ...urls];
    let jobs = 0;
    for (const [i, text] of texts.entries()) {
      const url = urls[i % urls.length] as string;
      for (const ending of ['running', 'completed', 'failed'] as const) {
        const created = await api('/jobs', { type: `hostile.${ending}`, scope: `${i}`, title: text });
        assert.equal(created.status, 201);
        jobs++;
        const claimed = await api('/worker/claim', { types: [`hostile.${ending}`] });
        const leaseToken = claimed.json.leaseToken as string;
        const id = (created.json.job as { id: string }).id;
        await api(`/worker/jobs/${id}/progress`, { leaseToken, progress: 50, message: text });
        if (ending === 'completed') {
          await api(`/worker/jobs/${id}/complete`, {
            leaseToken,
            result: { url, summary: text, title: text },
          });
        }
        if (ending === 'failed') {
          await api(`/worker/jobs/${id}/fail`, { leaseToken, error: { message: text, code: 'x' } });
        }
      }
    }
    const context = await browser.newContext();
    const tab = await context.newPage();
    const dialogs: string[] = [];
    tab.on('dialog', (dialog) => {
      dialogs.push(dialog.message());
      void dialog.dismiss();
    });
    await tab.goto(server.url);
    await tab.waitForFunction(
      (count) =>
        (document.querySelector('job-list')?.shadowRoot?.querySelectorAll('[part="card"]').length ?? 0) >=
        count,
      // The client holds every active job and the 50 most recent finished ones.
      texts.length + Math.min(2 * texts.length, 50),
      { timeout: 20_000 },
    );
    await tab.waitForTimeout(500);
    const found = await tab.evaluate(() => {
      const roots: (Document | ShadowRoot)[] = [document];
      for (const element of document.querySelectorAll('*'))
        if (element.shadowRoot) roots.push(element.shadowRoot);
      const links = roots.flatMap((root) =>
        [...root.querySelectorAll('a[href]')].map((a) => a.getAttribute('href') ?? ''),
      );
      const injected = roots
        .flatMap((root) => [
          ...root.querySelectorAll('img, svg, iframe, script:not([src]), details, math, style'),
        ])
        .filter(
          (element) =>
            element.closest('head') === null &&
            !(element.getRootNode() instanceof ShadowRoot && element.tagName === 'STYLE'),
        );
      const text = roots
        .map((root) => (root instanceof Document ? root.body.textContent : (root.textContent ?? '')))
        .join('\n');
      return {
        calls: (window as unknown as { pwnedCalls: number }).pwnedCalls,
        links,
        injected: injected.map((element) => element.outerHTML.slice(0, 80)),
        textShown: text.includes('<img src=x onerror=pwned()>'),
      };
    });
    const unsafe = found.links.filter(
      (href) => !/^(https?:\/\/|\/(?![/\\])|\.{1,2}\/|[^:/?#\\]+(?:[/?#]|$))/i.test(href),
    );
    t.diagnostic(
      `${texts.length} payloads in ${jobs} jobs (titles, messages, errors, results, result URLs): script calls ${found.calls}, dialogs ${dialogs.length}, links ${found.links.length} (${[...new Set(found.links)].join(' ')}; unsafe ${unsafe.length}), injected elements ${found.injected.length}`,
    );
    assert.equal(found.calls, 0, 'no payload ran');
    assert.deepEqual(dialogs, []);
    assert.deepEqual(unsafe, [], 'every link is http(s) or relative');
    assert.deepEqual(found.injected, [], 'no element came out of job text');
    assert.ok(found.textShown, 'the payloads show as text');
    await context.close();
  });
});
