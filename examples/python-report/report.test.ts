import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { readBody, SECRET, SseReader, tokenFor, WORKER_KEY } from '@jobtracker/test-support/server';
import { type ServerProcess, startServerProcess } from '@jobtracker/test-support/server-process';

const script = fileURLToPath(new URL('./report.py', import.meta.url));

/** Runs report.py with python3; resolves with its exit code and output. */
function runReport(args: string[], env: Record<string, string>) {
  const child = spawn('python3', [script, ...args], { env: { ...process.env, ...env }, stdio: 'pipe' });
  let output = '';
  child.stdout.on('data', (chunk) => {
    output += chunk;
  });
  child.stderr.on('data', (chunk) => {
    output += chunk;
  });
  return new Promise<{ code: number | null; output: string }>((resolve) =>
    child.once('exit', (code) => resolve({ code, output })),
  );
}

// The report API from another language: a Python process (standard library only) reports a job it
// runs for a user, and the user sees it from start to completion.
describe('examples/python-report/report.py against a real server', () => {
  let server: ServerProcess;
  const open: AbortController[] = [];
  before(async () => {
    server = await startServerProcess({
      env: { JOBTRACKER_SECRET: SECRET, JOBTRACKER_WORKER_KEY: WORKER_KEY },
    });
  });
  after(async () => {
    for (const controller of open) controller.abort();
    await server.kill();
  });

  async function userStream(owner: string) {
    const controller = new AbortController();
    open.push(controller);
    const response = await fetch(`${server.url}/api/jobs/stream`, {
      headers: { Authorization: `Bearer ${tokenFor(owner)}` },
      signal: controller.signal,
    });
    const reader = new SseReader(response);
    await reader.until(() => reader.ready.length === 1, 5000, 'ready');
    return reader;
  }

  it('reports a job for a user from start to completion, every progress report reaching their stream', async () => {
    const stream = await userStream('alice');
    const env = { JOBTRACKER_URL: `${server.url}/api`, JOBTRACKER_WORKER_KEY: WORKER_KEY };
    const run = await runReport(
      ['--owner', 'alice', '--external-id', 'py-42', '--steps', '4', '--step-ms', '50'],
      env,
    );
    assert.equal(run.code, 0, run.output);
    const id = /Reporting job ([0-9a-z]{26}) for alice \(created\)/.exec(run.output)?.[1];
    assert.ok(id, `the job's id in the output: ${run.output}`);

    const seen = await fetch(`${server.url}/api/jobs/${id}`, {
      headers: { Authorization: `Bearer ${tokenFor('alice')}` },
    }).then(readBody);
    assert.deepEqual(
      [seen.job.status, seen.job.progress, seen.job.title, seen.job.result],
      ['completed', 100, 'Export from Python', { steps: 4, externalId: 'py-42' }],
    );
    await stream.until(
      () => stream.jobs().some((job) => job.id === id && job.status === 'completed'),
      5000,
      'the completion on the stream',
    );
    const reported = stream.events
      .filter((event) => event.event === 'progress' || event.event === 'job')
      .map(
        (event) =>
          JSON.parse(event.data) as {
            id: string;
            status?: string;
            progress: number | null;
            message?: string;
          },
      )
      // Progress deltas carry no status; the job's own events do (its start, its completion).
      .filter((event) => event.id === id && event.message && (event.status ?? 'running') === 'running')
      .map((event) => `${event.progress} ${event.message}`);
    assert.deepEqual(
      reported,
      ['20 Step 1 of 4', '40 Step 2 of 4', '60 Step 3 of 4', '80 Step 4 of 4'],
      'each report, through the job route and the batch route, in order',
    );

    // The same externalId again answers the finished job: nothing is reported twice.
    const again = await runReport(['--owner', 'alice', '--external-id', 'py-42'], env);
    assert.notEqual(again.code, 0, 'a finished job takes no more reports');
    assert.match(again.output, new RegExp(`Reporting job ${id} for alice \\(resumed\\)`));
    const bobs = await fetch(`${server.url}/api/jobs`, {
      headers: { Authorization: `Bearer ${tokenFor('bob')}` },
    }).then(readBody);
    assert.equal(bobs.jobs.length, 0, 'another user never sees it');
  });

  it('stops when the user cancels the job (exit 3)', async () => {
    const env = { JOBTRACKER_URL: `${server.url}/api`, JOBTRACKER_WORKER_KEY: WORKER_KEY };
    const running = runReport(['--owner', 'carol', '--steps', '50', '--step-ms', '100'], env);
    const stream = await userStream('carol');
    await stream.until(() => stream.jobs().some((job) => job.status === 'running'), 10_000, 'the job to run');
    const job = stream.jobs().find((candidate) => candidate.status === 'running');
    const cancelled = await fetch(`${server.url}/api/jobs/${job?.id}/cancel`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${tokenFor('carol')}` },
    });
    assert.equal(cancelled.status, 200);
    const run = await running;
    assert.equal(run.code, 3, run.output);
    assert.match(run.output, /was cancelled by its user: stopped/);
  });
});
