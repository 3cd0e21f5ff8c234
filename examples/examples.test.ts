import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { createJobClient } from '@jobtracker/sdk';
import { type ServerProcess, startServerProcess } from '@jobtracker/test-support/server-process';
import { eventually } from '@jobtracker/test-support/tokens';

const here = (path: string) => fileURLToPath(new URL(path, import.meta.url));
const children: ChildProcess[] = [];

function run(script: string, args: string[], env: Record<string, string> = {}) {
  const child = spawn(process.execPath, [here(script), ...args], {
    env: { ...process.env, ...env },
    stdio: 'pipe',
  });
  children.push(child);
  let output = '';
  child.stdout?.on('data', (chunk) => {
    output += chunk;
  });
  child.stderr?.on('data', (chunk) => {
    output += chunk;
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
  return { child, exited, output: () => output };
}

describe('examples', () => {
  let server: ServerProcess;
  before(async () => {
    server = await startServerProcess({ args: ['--demo'] });
  });
  after(async () => {
    for (const child of children) child.kill('SIGKILL');
    await server.kill();
  });

  it('node: starts a job, draws its progress in the terminal and ends with the result', async () => {
    const script = run('./node/progress.mjs', [
      '--url',
      `${server.url}/api`,
      '--ms',
      '1500',
      '--title',
      'From a test',
    ]);
    assert.equal(await script.exited, 0, script.output());
    const output = script.output();
    assert.match(output, /Started job [0-9a-z]{26}/);
    assert.match(output, /\[#{30}\] 100%/);
    const percents = [...output.matchAll(/\] +(\d+)%/g)].map((match) => Number(match[1]));
    assert.ok(
      percents.some((percent) => percent > 0 && percent < 100),
      `the bar moves through the job's progress: ${percents}`,
    );
    assert.deepEqual(
      percents,
      [...percents].sort((a, b) => a - b),
      'and never goes back',
    );
    assert.match(output, /Done: “From a test” is ready.*→ \/programs\/[0-9a-z]{26}/);
  });

  it('worker: a separate process claims a job through the worker API and completes it with progress', async () => {
    const worker = run('./worker/worker.mjs', ['--url', `${server.url}/api`]);
    await eventually(() => worker.output().includes('claiming report.export'), 5000, 'the worker to start');
    const client = createJobClient({ baseUrl: `${server.url}/api`, storage: null });
    const seen: string[] = [];
    let lastVersion = 0;
    const stop = client.$jobs.subscribe((jobs) => {
      for (const job of Object.values(jobs))
        if (
          job.type === 'report.export' &&
          job.status === 'running' &&
          job.message &&
          job.version > lastVersion
        ) {
          lastVersion = job.version;
          seen.push(`${job.progress}% ${job.message}`);
        }
    });
    const created = await fetch(`${server.url}/api/jobs`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ type: 'report.export', input: { rows: 40, stepMs: 30 } }),
    }).then((r) => r.json() as Promise<{ job: { id: string } }>);
    const done = await eventually(
      async () => {
        const { job } = (await (await fetch(`${server.url}/api/jobs/${created.job.id}`)).json()) as {
          job: { status: string; progress: number; result: { summary: string } };
        };
        return job.status === 'completed' ? job : null;
      },
      10_000,
      'the worker to complete the job',
    );
    assert.deepEqual([done.progress, done.result.summary], [100, '40 rows exported']);
    stop();
    assert.deepEqual(
      seen,
      [0, 4, 8, 12, 16, 20, 24, 28, 32, 36, 40].map(
        (rows) => `${(rows / 40) * 100}% Exported ${rows} of 40 rows`,
      ),
      'every progress report of the worker reached a watching client, in order',
    );
    worker.child.kill('SIGTERM');
    assert.equal(await worker.exited, 0, 'the worker stops cleanly');
  });

  describe('multi-page: what Lighthouse checks', () => {
    let base = '';
    before(async () => {
      const app = run('./multi-page/server.js', ['--port', '0', '--db', ':memory:'], {
        JOBTRACKER_SECRET: 'example-new-secret,example-old-secret',
      });
      base = await eventually(
        () => /listening on (http:\/\/\S+?)\/\s/.exec(app.output())?.[1] ?? null,
        20_000,
        'the example app to listen',
      );
    });
    const gzip = { 'Accept-Encoding': 'gzip' };

    it('compresses its pages and scripts for a client that accepts gzip', async () => {
      // The drop-in and a chunk beside it (what a page with <job-list> loads).
      const listChunk = readdirSync(here('../packages/widget/dist/chunks')).find((name) =>
        /^job-list-[\w-]+\.js$/.test(name),
      );
      assert.ok(listChunk, 'the drop-in has a <job-list> chunk (npm run build)');
      for (const path of ['/', '/programs', '/assets/jobtracker.min.js', `/assets/chunks/${listChunk}`]) {
        const response = await fetch(`${base}${path}`, { headers: gzip });
        assert.equal(response.status, 200, path);
        assert.equal(response.headers.get('content-encoding'), 'gzip', `${path} is gzipped`);
        assert.match(response.headers.get('vary') ?? '', /accept-encoding/i, `${path} varies by encoding`);
        assert.ok((await response.text()).length > 1000, `${path} decompresses to its content`);
      }
      const plain = await fetch(`${base}/`, { headers: { 'Accept-Encoding': 'identity' } });
      assert.equal(plain.headers.get('content-encoding'), null, 'a client without gzip gets it plain');
      assert.match(await plain.text(), /<html/i, 'the page itself');
    });

    it('serves a favicon', async () => {
      const response = await fetch(`${base}/favicon.ico`, { headers: gzip });
      assert.equal(response.status, 200, 'no 404 for the icon browsers ask for');
      assert.equal(response.headers.get('content-type'), 'image/x-icon', 'an icon');
      assert.equal(response.headers.get('content-encoding'), null, 'too small to be worth compressing');
      const body = Buffer.from(await response.arrayBuffer());
      assert.deepEqual([...body.subarray(0, 4)], [0, 0, 1, 0], 'an ICO file');
    });

    it('never compresses the job stream, whose events must arrive as they happen', async () => {
      const page = await (await fetch(`${base}/`)).text();
      const token = /<meta name="jobtracker-token" content="([^"]+)">/.exec(page)?.[1];
      assert.ok(token, 'the page carries a token signed with the first secret of the list');
      const controller = new AbortController();
      try {
        const response = await fetch(`${base}/api/jobs/stream`, {
          headers: { ...gzip, Authorization: `Bearer ${token}` },
          signal: controller.signal,
        });
        assert.equal(response.status, 200, 'the token signed by the example is accepted');
        assert.match(response.headers.get('content-type') ?? '', /^text\/event-stream/, 'an event stream');
        assert.equal(response.headers.get('content-encoding'), null, 'not compressed');
        const reader = (response.body as ReadableStream<Uint8Array>).getReader();
        const first = await Promise.race([
          reader.read(),
          new Promise<never>((_, reject) => setTimeout(() => reject(new Error('no event within 2 s')), 2000)),
        ]);
        const text = Buffer.from(first.value ?? []).toString();
        assert.match(
          text,
          /event: (ready|snapshot)|retry:|^:/m,
          `the first events arrive at once: ${text.slice(0, 80)}`,
        );
      } finally {
        controller.abort();
      }
    });
  });
});
