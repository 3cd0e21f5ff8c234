// The packages as someone else's app meets them: the tarballs `npm pack` makes are installed (not
// the workspace) into throw-away consumer apps beside test/consumers/apps, which then type-check, build and
// run: React 19 + Vite (strict, skipLibCheck false, TypeScript 5.9 and 7), Vue 3 + Vite + vue-tsc, a
// plain HTML page with only the drop-in file, Node 20 ESM (client and worker), and a host Hono app on
// another hono minor within the peer range. The README's and docs/widget.md's snippets are compiled as
// written. publint --strict and attw (ESM only) judge each tarball. One install serves every app; npm's
// cache makes it fast after the first run. Needs the build `npm test` makes first.
// JOBTRACKER_KEEP_CONSUMERS=1 keeps the folder and prints where it is.
import assert from 'node:assert/strict';
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import {
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { CHROME_PATH, CHROMIUM_ARGS } from '@jobtracker/test-support/chromium';
import { fencedBlocks } from '@jobtracker/test-support/markdown';
import { type Browser, chromium } from 'playwright-core';

const run = promisify(execFile);
const root = fileURLToPath(new URL('../..', import.meta.url));
const appsSource = fileURLToPath(new URL('./apps', import.meta.url));
const keep = process.env.JOBTRACKER_KEEP_CONSUMERS === '1';

/** What the consumer apps install besides the tarballs: exact versions, so a run is repeatable. */
const CONSUMER_DEPENDENCIES = {
  // A different minor than the workspace's hono 4.13, at the bottom of the server's peer range.
  hono: '4.12.34',
  '@hono/node-server': '2.1.9',
  react: '19.3.1',
  'react-dom': '19.3.1',
  '@types/react': '19.3.3',
  '@types/react-dom': '19.3.0',
  '@types/node': '20.19.43',
  vue: '3.5.45',
  vite: '8.4.0',
  '@vitejs/plugin-react': '6.3.0',
  '@vitejs/plugin-vue': '6.0.11',
  'vue-tsc': '3.3.14',
  typescript: '5.9.3',
  // @jobtracker/bullmq's peer (and its ioredis).
  bullmq: '5.81.5',
  publint: '0.3.25',
  '@arethetypeswrong/cli': '0.18.5',
};

const PACKAGES = [
  '@jobtracker/sdk',
  '@jobtracker/widget',
  '@jobtracker/server',
  '@jobtracker/bullmq',
] as const;

const work = mkdtempSync(join(tmpdir(), 'jobtracker-consumers-'));
const apps = join(work, 'apps');
const tarballs = new Map<string, string>();
const bin = (name: string) => join(apps, 'node_modules', '.bin', name);
/** TypeScript 7 (the workspace's own compiler), next to the consumer's TypeScript 5.9. */
const tsc7 = join(root, 'node_modules', '.bin', 'tsc');

async function sh(command: string, args: string[], cwd = apps, timeout = 300_000) {
  try {
    return await run(command, args, {
      cwd,
      timeout,
      maxBuffer: 64 * 1024 * 1024,
      env: { ...process.env, CI: '1' },
    });
  } catch (error) {
    const { stdout = '', stderr = '' } = error as { stdout?: string; stderr?: string };
    throw new Error(`${command} ${args.join(' ')} failed in ${cwd}:\n${stdout}\n${stderr}`.trim());
  }
}

/** Copies the documentation's snippets, as written, to where the consumer apps compile them. */
function placeSnippets(): void {
  const readme = fencedBlocks(join(root, 'README.md'), ['ts', 'tsx']);
  assert.ok(readme.length >= 5, `README.md has ${readme.length} TypeScript snippets`);
  readme.forEach((block, index) => {
    writeFileSync(join(apps, 'readme', `readme-${index + 1}.${block.language}`), block.code);
  });
  for (const name of ['sdk', 'widget', 'server']) {
    const blocks = fencedBlocks(join(root, `packages/${name}/README.md`), ['ts', 'tsx']);
    blocks.forEach((block, index) => {
      writeFileSync(join(apps, 'readme', `${name}-readme-${index + 1}.${block.language}`), block.code);
    });
  }
  const react = readme.filter((block) => block.code.includes("'@jobtracker/widget/react'"));
  assert.equal(react.length, 1, "README.md's React snippet (it imports '@jobtracker/widget/react')");
  // The React app renders the snippet's components, so it exports them; the rest is as written.
  writeFileSync(
    join(apps, 'react', 'src', 'readme-snippet.tsx'),
    `${react[0]?.code}\nexport { Badge, Tracker };\n`,
  );

  const widgetReact = fencedBlocks(join(root, 'docs/widget.md'), ['tsx']).filter((block) =>
    block.code.includes("'@jobtracker/widget/react'"),
  );
  assert.ok(widgetReact.length >= 1, "docs/widget.md's React snippet");
  widgetReact.forEach((block, index) => {
    writeFileSync(join(apps, 'readme', `widget-react-${index + 1}.tsx`), block.code);
  });

  const vueMain = fencedBlocks(join(root, 'docs/widget.md'), ['ts']).filter((block) =>
    block.code.includes("'@jobtracker/widget/vue'"),
  );
  const vueTemplate = fencedBlocks(join(root, 'docs/widget.md'), ['vue']);
  assert.equal(
    vueMain.length,
    1,
    "docs/widget.md's Vue main.ts snippet (it imports '@jobtracker/widget/vue')",
  );
  assert.equal(vueTemplate.length, 1, "docs/widget.md's Vue component snippet (```vue)");
  writeFileSync(join(apps, 'vue', 'src', 'main.ts'), vueMain[0]?.code ?? '');
  writeFileSync(join(apps, 'vue', 'src', 'App.vue'), vueTemplate[0]?.code ?? '');
}

interface LockEntry {
  version?: string;
  resolved?: string;
}

function installed(): Record<string, LockEntry> {
  const lock = JSON.parse(readFileSync(join(apps, 'node_modules', '.package-lock.json'), 'utf8')) as {
    packages: Record<string, LockEntry>;
  };
  return lock.packages;
}

let host: ChildProcess | undefined;
let browser: Browser | undefined;

describe('consumers: the packed tarballs in apps of other people', { timeout: 900_000 }, () => {
  before(
    async () => {
      const tarballDir = join(work, 'tarballs');
      mkdirSync(tarballDir);
      const { stdout } = await sh(
        'npm',
        [
          'pack',
          '--json',
          '--ignore-scripts',
          '--pack-destination',
          tarballDir,
          ...PACKAGES.flatMap((name) => ['--workspace', name]),
        ],
        root,
      );
      for (const { name, filename } of JSON.parse(stdout) as { name: string; filename: string }[]) {
        tarballs.set(name, join(tarballDir, filename));
      }
      assert.deepEqual([...tarballs.keys()].sort(), [...PACKAGES].sort());

      cpSync(appsSource, apps, { recursive: true });
      placeSnippets();
      const dependencies: Record<string, string> = { ...CONSUMER_DEPENDENCIES };
      for (const [name, path] of tarballs) dependencies[name] = `file:${path}`;
      writeFileSync(
        join(apps, 'package.json'),
        `${JSON.stringify({ name: 'consumer-apps', private: true, type: 'module', dependencies }, null, 2)}\n`,
      );
      await sh(
        'npm',
        ['install', '--prefer-offline', '--no-audit', '--no-fund', '--loglevel=error'],
        apps,
        600_000,
      );
    },
    { timeout: 900_000 },
  );

  after(async () => {
    await browser?.close();
    if (host && host.exitCode === null) {
      host.kill('SIGTERM');
      await new Promise((resolve) => host?.once('exit', resolve));
    }
    if (keep) console.log(`consumer apps kept in ${apps}`);
    else rmSync(work, { recursive: true, force: true });
  });

  test('installs the packages from their tarballs, with one hono (the host’s) and no pg', () => {
    const packages = installed();
    for (const name of PACKAGES) {
      const entry = packages[`node_modules/${name}`];
      assert.ok(entry?.resolved?.startsWith('file:'), `${name} comes from its tarball: ${entry?.resolved}`);
    }
    const copies = (name: string) =>
      Object.entries(packages)
        .filter(([path]) => path === `node_modules/${name}` || path.endsWith(`/node_modules/${name}`))
        .map(([path, entry]) => `${path}@${entry.version}`);
    assert.deepEqual(copies('@jobtracker/sdk'), ['node_modules/@jobtracker/sdk@0.1.0']);
    assert.deepEqual(copies('hono'), [`node_modules/hono@${CONSUMER_DEPENDENCIES.hono}`]);
    assert.deepEqual(copies('pg'), [], 'pg is an optional peer: a SQLite host does not get it');
    for (const name of PACKAGES) {
      const files = readdirSync(join(apps, 'node_modules', name), { recursive: true, encoding: 'utf8' });
      const harness = files.filter((file) => /\.test\.|(^|\/)testing\/|\.tsbuildinfo$/.test(file));
      assert.deepEqual(harness, [], `${name} installs no tests, harness or build state`);
    }
  });

  test('a consumer that builds with the common `source` condition still loads the published code', async () => {
    const { stdout } = await sh(process.execPath, [
      '--conditions=source',
      '--input-type=module',
      '-e',
      "for (const name of ['@jobtracker/sdk', '@jobtracker/sdk/worker', '@jobtracker/server']) console.log(import.meta.resolve(name)); await import('@jobtracker/server');",
    ]);
    const resolved = stdout.trim().split('\n');
    assert.equal(resolved.length, 3, stdout);
    for (const url of resolved) assert.match(url, /\/dist\/.*\.js$/, `resolves into dist: ${url}`);
  });

  test('@jobtracker/bullmq: a bridge and a worker type-check against BullMQ from the tarball, and it loads', async () => {
    await sh(bin('tsc'), ['-p', 'bullmq', '--noEmit']);
    const { stdout } = await sh(process.execPath, [
      '--input-type=module',
      '-e',
      "const m = await import('@jobtracker/bullmq'); console.log(import.meta.resolve('@jobtracker/bullmq'), typeof m.trackQueue, typeof m.listenForCancels);",
    ]);
    assert.match(stdout.trim(), /\/dist\/index\.js function function$/, stdout);
  });

  test('publint --strict and attw (ESM only) pass for each tarball', async () => {
    for (const [name, tarball] of tarballs) {
      const lint = await sh(bin('publint'), ['--strict', join(apps, 'node_modules', name)]);
      assert.doesNotMatch(lint.stdout, /error|warning|suggestion/i, `publint ${name}:\n${lint.stdout}`);
      await sh(bin('attw'), ['--profile', 'esm-only', '--format', 'table-flipped', tarball]);
    }
  });

  test('the README’s and docs/widget.md’s TypeScript snippets compile as written (TypeScript 5.9 and 7)', async () => {
    await sh(bin('tsc'), ['-p', 'readme']);
    await sh(tsc7, ['-p', 'readme']);
  });

  test('React 19 + Vite: strict type-check refuses wrong values, and the app builds', async () => {
    await sh(bin('tsc'), ['-p', 'react']);
    await sh(tsc7, ['-p', 'react']);
    await sh(bin('vite'), ['build'], join(apps, 'react'));
    assert.ok(existsSync(join(apps, 'react', 'dist', 'index.html')), 'vite built the React app');
  });

  test('Vue 3 + Vite: vue-tsc checks the tags in templates, and the app builds', async () => {
    await sh(bin('vue-tsc'), ['-p', 'vue', '--noEmit']);
    await sh(bin('vite'), ['build'], join(apps, 'vue'));
    assert.ok(existsSync(join(apps, 'vue', 'dist', 'index.html')), 'vite built the Vue app');
  });

  let origin = '';
  let workerKey = '';

  test('a host Hono app mounts tracker.app, type-checks, and serves a user’s stream', async () => {
    await sh(bin('tsc'), ['-p', 'host']);
    await sh(tsc7, ['-p', 'host', '--noEmit']);
    const started = spawn(process.execPath, [join(apps, 'host', 'dist', 'server.js')], {
      cwd: apps,
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    host = started;
    const ready = await new Promise<{ origin: string; workerKey: string }>((resolve, reject) => {
      let output = '';
      started.stdout?.on('data', (chunk: Buffer) => {
        output += chunk.toString();
        const line = output.split('\n').find((candidate) => candidate.startsWith('{'));
        if (line) resolve(JSON.parse(line) as { origin: string; workerKey: string });
      });
      started.once('exit', (code) =>
        reject(new Error(`the host exited (${code}) before listening:\n${output}`)),
      );
    });
    ({ origin, workerKey } = ready);

    const { token } = (await (await fetch(`${origin}/token`)).json()) as { token: string };
    const stream = await fetch(`${origin}/api/jobs/stream`, {
      headers: { Authorization: `Bearer ${token}` },
    });
    assert.equal(stream.status, 200);
    assert.match(stream.headers.get('content-type') ?? '', /^text\/event-stream/);
    const reader = stream.body?.getReader();
    let text = '';
    while (!/\n\n/.test(text)) {
      const chunk = await reader?.read();
      if (!chunk || chunk.done) break;
      text += new TextDecoder().decode(chunk.value);
    }
    await reader?.cancel();
    assert.match(text, /^(event|id|retry|data|:)/m, `a first stream frame: ${JSON.stringify(text)}`);

    const anonymous = await fetch(`${origin}/api/jobs`);
    assert.equal(anonymous.status, 401, 'the mounted API verifies tokens');
  });

  test('Node 20 ESM: createJobClient follows a job to completion, createWorker runs one and createReporter reports one', async () => {
    assert.ok(origin, 'the host is running');
    await sh(bin('tsc'), ['-p', 'node']);
    const { stdout } = await sh(
      process.execPath,
      [join(apps, 'node', 'dist', 'main.js'), origin, workerKey],
      apps,
      60_000,
    );
    const seen = JSON.parse(stdout.trim().split('\n').at(-1) ?? '{}') as {
      generated: { status: string; result: { url: string }; progressSeen: number[] };
      worked: { status: string; result: { url: string } };
      reported: { status: string; result: { url: string }; progressSeen: number[] };
    };
    assert.equal(seen.generated.status, 'completed');
    assert.match(seen.generated.result.url, /^\/done\//);
    assert.ok(seen.generated.progressSeen.length >= 2, `progress followed: ${seen.generated.progressSeen}`);
    assert.equal(seen.worked.status, 'completed');
    assert.match(seen.worked.result.url, /^\/reports\//);
    assert.equal(seen.reported.status, 'completed', 'createReporter completed the job it reported');
    assert.match(seen.reported.result.url, /^\/reported\//);
  });

  test('in Chromium, the React app and the plain HTML page show a job’s progress, the badge counts it, and the toast links to its result', async () => {
    assert.ok(origin, 'the host is running');
    browser = await chromium.launch({ executablePath: CHROME_PATH, args: CHROMIUM_ARGS });
    for (const [path, resultPrefix] of [
      ['/react/', '/programs/'],
      ['/html/', '/html/'],
    ] as const) {
      const context = await browser.newContext();
      const page = await context.newPage();
      const errors: string[] = [];
      const fetched: string[] = [];
      page.on('pageerror', (error) => errors.push(error.message));
      page.on('response', (response) => {
        fetched.push(new URL(response.url()).pathname);
        if (response.status() >= 400) errors.push(`${response.status()} ${response.url()}`);
      });
      await page.goto(`${origin}${path}`);
      await page.getByRole('button', { name: 'Generate program' }).click();

      const bar = page.locator('job-tracker [role="progressbar"]').first();
      await bar.waitFor({ timeout: 10_000 });
      await page.waitForFunction(
        () => {
          const tracker = document.querySelector('job-tracker');
          const progress = tracker?.shadowRoot?.querySelector('[role="progressbar"]');
          return Number(progress?.getAttribute('aria-valuenow') ?? 0) > 0;
        },
        undefined,
        { timeout: 10_000 },
      );
      await page.locator('job-badge[count="1"]').waitFor({ state: 'attached', timeout: 5_000 });
      assert.ok(
        await page.locator('job-button button').isDisabled(),
        `${path}: Generate is disabled meanwhile`,
      );
      const jobId = await page.locator('job-tracker [data-job-id]').first().getAttribute('data-job-id');

      const link = page.locator('job-tracker [part="view-link"]');
      await link.waitFor({ timeout: 15_000 });
      assert.equal(
        new URL((await link.getAttribute('href')) ?? '', origin).href,
        `${origin}${resultPrefix}${jobId}`,
        `${path}: the toast links to the result`,
      );
      await page.locator('job-badge[count="0"]').waitFor({ state: 'attached', timeout: 5_000 });
      assert.deepEqual(errors, [], `${path}: no errors in the console`);
      if (path === '/html/') {
        // <job-button> comes from a chunk of the drop-in, from the tarball.
        assert.ok(
          fetched.some((file) => /^\/chunks\/job-button-[\w-]+\.js$/.test(file)),
          `the page loaded the <job-button> chunk: ${fetched.join(', ')}`,
        );
      }
      await context.close();
    }
  });
});
