import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { eventually } from '@jobtracker/test-support/tokens';
import { fakeJobApi, wireJob } from '../testing/fake-job-api.js';
import type { Job } from '../wire.js';
import { createJobClient } from './client.js';

describe('job client with progress deltas', () => {
  for (const transport of ['sse', 'poll'] as const) {
    it(`emits progress and announces completion as with whole jobs (${transport})`, async () => {
      const api = fakeJobApi();
      api.put(wireJob('a', { status: 'pending', startedAt: null, attempt: 0 }));
      const client = createJobClient({
        baseUrl: 'http://jobs.test/api',
        fetch: api.fetch,
        storage: null,
        shareTabs: false,
        transport,
        pollActiveMs: 30,
        pollIdleMs: 200,
      });
      const progress: [number | null, string | null][] = [];
      const completed: Job[] = [];
      const offs = [
        client.$jobs.subscribe(() => {}),
        client.on('progress', (job) => progress.push([job.progress, job.message])),
        client.on('completed', (job) => completed.push(job)),
      ];
      try {
        await eventually(() => client.$jobs.get().a, 3000, 'the job');
        api.put({ ...(api.job('a') as Job), status: 'running', attempt: 1, version: 2 });
        await eventually(() => client.$active.get()[0]?.status === 'running', 3000, 'running');
        for (const [value, message] of [
          [10, 'one'],
          [20, 'one'],
          [20, 'two'],
        ] as const) {
          api.progress('a', value, message);
          await eventually(() => client.$jobs.get().a?.version === api.job('a')?.version, 3000, 'the delta');
        }
        const finished = {
          ...(api.job('a') as Job),
          status: 'completed' as const,
          version: 6,
          progress: 100,
        };
        api.put({ ...finished, completedAt: finished.updatedAt });
        await eventually(() => completed.length === 1, 3000, 'announced');
        assert.deepEqual(client.$jobs.get().a, api.job('a'), 'the same job as the server');
        assert.deepEqual(progress, [
          [10, 'one'],
          [20, 'one'],
          [20, 'two'],
        ]);
        assert.equal(completed[0]?.id, 'a');
        assert.equal(client.cursor, api.cursor);
      } finally {
        for (const off of offs) off();
      }
    });
  }
});
