#!/usr/bin/env node
// Starts a job with the SDK and shows its progress in the terminal until it ends.
//   node examples/node/progress.mjs [--url http://localhost:8787/api] [--token <jwt>] [--type demo.generate] [--ms 8000]
import { parseArgs } from 'node:util';
import { createJobClient } from '@jobtracker/sdk';

const { values } = parseArgs({
  options: {
    url: { type: 'string', default: 'http://localhost:8787/api' },
    token: { type: 'string' },
    type: { type: 'string', default: 'demo.generate' },
    ms: { type: 'string', default: '8000' },
    title: { type: 'string', default: 'Program from the terminal' },
  },
});

const client = createJobClient({ baseUrl: values.url, token: values.token, storage: null });
const bar = (progress) => {
  const width = 30;
  const filled = Math.round(((progress ?? 0) / 100) * width);
  return `[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${progress === null ? '  …' : `${String(Math.floor(progress)).padStart(3)}%`}`;
};
const line = (text) => process.stdout.write(process.stdout.isTTY ? `\r\x1b[2K${text}` : `${text}\n`);

try {
  const { job, created } = await client.start({
    type: values.type,
    scope: `terminal-${process.pid}`,
    title: values.title,
    input: { durationMs: Number(values.ms) },
  });
  console.log(`${created ? 'Started' : 'Following'} job ${job.id}`);
  const final = await new Promise((resolve) => {
    let last = '';
    const stop = client.jobStore(job.id).subscribe((current) => {
      if (!current) return;
      const text = `${bar(current.progress)} ${current.message ?? current.status}`;
      if (text !== last) line(text);
      last = text;
      if (current.status !== 'pending' && current.status !== 'running') {
        queueMicrotask(() => stop());
        resolve(current);
      }
    });
  });
  process.stdout.write('\n');
  if (final.status === 'completed') {
    console.log(
      `Done: ${final.result?.summary ?? 'completed'}${final.result?.url ? ` → ${final.result.url}` : ''}`,
    );
    process.exit(0);
  }
  console.error(`Job ${final.status}: ${final.error?.message ?? ''}`);
  process.exit(1);
} catch (error) {
  console.error(`Could not run the job: ${error.message}`);
  process.exit(2);
}
