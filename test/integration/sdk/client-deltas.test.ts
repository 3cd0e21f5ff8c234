// The client against the real server's progress deltas and held polls (issue 16).
import assert from 'node:assert/strict';
import { createServer, request as httpRequest } from 'node:http';
import { after, before, describe, it } from 'node:test';
import type { Job, JobListResponse } from '@jobtracker/sdk';
import { createJobClient } from '@jobtracker/sdk';
import { type ServerProcess, startServerProcess } from '@jobtracker/test-support/server-process';
import { eventually } from '@jobtracker/test-support/tokens';
import { WORKER, watch, worker } from './client-fixture.js';

const delay = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** A fetch that records every request's path and query, the stream's text and the poll answers' bodies. */
function tapFetch() {
  const requests: { url: URL; at: number }[] = [];
  const polls: JobListResponse[] = [];
  let streamText = '';
  const tapped: typeof fetch = async (input, init) => {
    const url = new URL(String(input));
    requests.push({ url, at: performance.now() });
    const response = await fetch(input, init);
    if (url.pathname.endsWith('/jobs/stream') && response.body) {
      const [mine, theirs] = response.body.tee();
      void (async () => {
        const reader = mine.pipeThrough(new TextDecoderStream()).getReader();
        for (;;) {
          const { value, done } = await reader.read().catch(() => ({ value: '', done: true }));
          if (done) break;
          streamText += value;
        }
      })();
      return new Response(theirs, response);
    }
    if (url.searchParams.has('since') && response.status === 200) polls.push(await response.clone().json());
    return response;
  };
  return { fetch: tapped, requests, polls, stream: () => streamText };
}

const api = async <T>(base: string, path: string, body?: unknown): Promise<T> => {
  const response = await fetch(`${base}/api${path}`, {
    method: body === undefined ? 'GET' : 'POST',
    headers: body === undefined ? {} : { 'Content-Type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return (await response.json()) as T;
};

describe('job client with progress deltas and held polls against a real server', () => {
  let server: ServerProcess;
  before(async () => {
    server = await startServerProcess({ args: ['--worker-key', WORKER] });
  });
  after(() => server.kill());

  it('takes progress reports as deltas on the stream and holds the same job as the server', async () => {
    const tap = tapFetch();
    const client = createJobClient({
      baseUrl: `${server.url}/api`,
      transport: 'sse',
      storage: null,
      fetch: tap.fetch,
    });
    const watcher = watch(client);
    const progress: (number | null)[] = [];
    const off = client.on('progress', (job) => progress.push(job.progress));
    try {
      await eventually(() => client.$connection.get().state === 'live', 5000, 'live');
      const { job } = await client.start({ type: 'deltas.sse' });
      const w = worker(server.url);
      const claim = await w.claim('deltas.sse');
      for (const step of [10, 20, 30]) {
        await w.progress(job.id, claim.leaseToken, step, `step ${step}`);
        await eventually(() => client.jobStore(job.id).get()?.progress === step, 3000, `step ${step}`);
      }
      const { job: onServer } = await api<{ job: Job }>(server.url, `/jobs/${job.id}`);
      assert.deepEqual(client.jobStore(job.id).get(), onServer, 'the whole job, as the server has it');
      const deltas = tap
        .stream()
        .split('\n\n')
        .filter((frame) => frame.includes('event: progress'));
      assert.equal(deltas.length, 3, 'three progress events');
      for (const frame of deltas)
        assert.doesNotMatch(frame, /"type"|"status"/, `only what changed: ${frame}`);
      assert.deepEqual(progress, [10, 20, 30], 'on(progress) as with whole jobs');
      assert.equal(
        tap.requests.filter((r) => /\/jobs\/[0-9a-z]{26}$/.test(r.url.pathname)).length,
        0,
        'every delta applied: no job fetched',
      );
      await w.complete(job.id, claim.leaseToken, { ok: true });
      await eventually(() => client.jobStore(job.id).get()?.status === 'completed', 3000, 'completed');
    } finally {
      off();
      watcher.stop();
    }
  });

  for (const transport of ['sse'] as const) {
    it(`starts over from a snapshot when a delta names a job it does not hold (${transport})`, async () => {
      const tap = tapFetch();
      const client = createJobClient({
        baseUrl: `${server.url}/api`,
        transport,
        storage: null,
        fetch: tap.fetch,
        pollActiveMs: 200,
      });
      const watcher = watch(client);
      try {
        await eventually(
          () => ['live', 'polling'].includes(client.$connection.get().state),
          5000,
          'a connection',
        );
        const { job } = await client.start({ type: `deltas.gap.${transport}` });
        const w = worker(server.url);
        const claim = await w.claim(`deltas.gap.${transport}`);
        await w.progress(job.id, claim.leaseToken, 10, 'ten');
        await eventually(() => client.jobStore(job.id).get()?.progress === 10, 5000, 'the first report');
        // Past the server's progress flush, so the next report goes out as a delta.
        await delay(1500);
        // The client forgets its jobs (and cursor) while connected: the next delta names a job it does not hold.
        client.clear();
        await w.progress(job.id, claim.leaseToken, 20, 'twenty');
        await eventually(() => client.jobStore(job.id).get()?.progress === 20, 5000, 'the job again, whole');
        const { job: onServer } = await api<{ job: Job }>(server.url, `/jobs/${job.id}`);
        assert.deepEqual(client.jobStore(job.id).get(), onServer, 'exactly the server’s job');
        assert.equal(
          tap.requests.filter((r) => r.url.pathname.endsWith('/jobs/stream')).length,
          2,
          'a second stream, from no cursor',
        );
        await w.complete(job.id, claim.leaseToken, { ok: true });
        await eventually(() => client.jobStore(job.id).get()?.status === 'completed', 5000, 'completed');
      } finally {
        watcher.stop();
      }
    });
  }

  it('holds one poll while idle and shows a job created meanwhile at once', async () => {
    const tap = tapFetch();
    const client = createJobClient({
      baseUrl: `${server.url}/api`,
      transport: 'poll',
      storage: null,
      fetch: tap.fetch,
      pollIdleMs: 5000,
    });
    const watcher = watch(client);
    try {
      const polls = () => tap.requests.filter((r) => r.url.searchParams.has('since'));
      await eventually(() => polls().length === 2, 8000, 'a held poll after the first');
      await delay(500);
      assert.equal(polls().length, 2, 'one poll held, none more');
      assert.equal(polls()[1]?.url.searchParams.get('wait'), '5000');
      const created = performance.now();
      const { job } = await api<{ job: Job }>(server.url, '/jobs', { type: 'deltas.idle' });
      await eventually(() => client.jobStore(job.id).get(), 3000, 'the new job');
      const shownAfter = performance.now() - created;
      assert.ok(shownAfter < 1000, `shown ${Math.round(shownAfter)} ms after it was created`);
    } finally {
      watcher.stop();
    }
  });

  it('takes the progress reports of a running job together, as one delta with from per poll', async () => {
    const tap = tapFetch();
    const client = createJobClient({
      baseUrl: `${server.url}/api`,
      transport: 'poll',
      storage: null,
      fetch: tap.fetch,
      pollActiveMs: 1000,
    });
    const watcher = watch(client);
    try {
      await eventually(() => client.$connection.get().state === 'polling', 5000, 'polling');
      const { job } = await client.start({ type: 'deltas.poll' });
      const w = worker(server.url);
      const claim = await w.claim('deltas.poll');
      await w.progress(job.id, claim.leaseToken, 1, 'first');
      await eventually(() => client.jobStore(job.id).get()?.progress === 1, 5000, 'the first report');
      // Past the server's progress flush (1 s): the next reports are logged after the client's cursor.
      await delay(1500);
      for (const step of [2, 3, 4, 5]) await w.progress(job.id, claim.leaseToken, step, `step ${step}`);
      await eventually(() => client.jobStore(job.id).get()?.progress === 5, 5000, 'the last report');
      const coalesced = tap.polls.flatMap((answer) => answer.progress ?? []).filter((d) => d.id === job.id);
      assert.ok(coalesced.length > 0, 'deltas in polls');
      assert.ok(
        coalesced.some((delta) => delta.from !== undefined && delta.version - delta.from > 1),
        `reports taken together: ${JSON.stringify(coalesced)}`,
      );
      const { job: onServer } = await api<{ job: Job }>(server.url, `/jobs/${job.id}`);
      assert.deepEqual(client.jobStore(job.id).get(), onServer);
    } finally {
      watcher.stop();
    }
  });

  it('falls back to short polls, without an error, behind a proxy that cuts held polls', async () => {
    const target = new URL(server.url);
    // Cuts every held poll after 300 ms; passes everything else.
    const proxy = createServer((incoming, outgoing) => {
      const upstream = httpRequest(
        {
          host: target.hostname,
          port: target.port,
          path: incoming.url,
          method: incoming.method,
          headers: incoming.headers,
        },
        (answer) => {
          outgoing.writeHead(answer.statusCode ?? 502, answer.headers);
          answer.pipe(outgoing);
        },
      );
      upstream.on('error', () => outgoing.destroy());
      incoming.pipe(upstream);
      if (incoming.url?.includes('wait=')) setTimeout(() => outgoing.socket?.destroy(), 300);
    });
    await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
    const { port } = proxy.address() as { port: number };
    const client = createJobClient({
      baseUrl: `http://127.0.0.1:${port}/api`,
      transport: 'poll',
      storage: null,
      pollIdleMs: 1000,
    });
    const states = new Set<string>();
    const offStates = client.$connection.subscribe((status) => states.add(status.state));
    const watcher = watch(client);
    try {
      await eventually(() => client.$connection.get().state === 'polling', 5000, 'polling');
      await delay(1500);
      const { job } = await api<{ job: Job }>(server.url, '/jobs', { type: 'deltas.proxy' });
      await eventually(() => client.jobStore(job.id).get(), 3000, 'the new job, by a short poll');
      assert.deepEqual([...states], ['connecting', 'polling'], 'never an error');
    } finally {
      offStates();
      watcher.stop();
      proxy.closeAllConnections();
      proxy.close();
    }
  });
});
