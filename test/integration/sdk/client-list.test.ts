// The client's listJobs against a real server: pages of a long history, typed errors, one user's jobs only.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createJobClient, JobTrackerHttpError, JobTrackerNetworkError } from '@jobtracker/sdk';
import { type ServerProcess, startServerProcess } from '@jobtracker/test-support/server-process';
import { signTestToken } from '@jobtracker/test-support/tokens';
import { closedPort, WORKER } from './client-fixture.js';

describe('client.listJobs against a real server', () => {
  const secret = 'list-secret-0123456789abcdef0123456789';
  let server: ServerProcess;
  before(async () => {
    server = await startServerProcess({ args: ['--worker-key', WORKER, '--secret', secret] });
  });
  after(() => server.kill());

  const clientOf = (user: string) =>
    createJobClient({
      baseUrl: `${server.url}/api`,
      token: signTestToken(user, secret),
      storage: null,
      shareTabs: false,
    });

  it('fetches one page at a time, newest first, with the filters, until next is null', async () => {
    const client = clientOf('lister');
    const made: string[] = [];
    for (let i = 0; i < 5; i++) {
      const { job } = await client.start({ type: 'list.page', scope: `p${i}` });
      await client.cancel(job.id);
      made.unshift(job.id);
    }
    await client.start({ type: 'list.other' });
    const seen: string[] = [];
    let next: string | null = null;
    let pages = 0;
    do {
      const page = await client.listJobs({
        status: ['cancelled'],
        type: 'list.page',
        limit: 2,
        before: next,
      });
      assert.ok(page.jobs.length <= 2, 'at most limit jobs');
      seen.push(...page.jobs.map((job) => job.id));
      next = page.next;
      pages++;
    } while (next !== null && pages < 10);
    assert.deepEqual(seen, made, 'every job once, newest first');
    assert.equal(pages, 3);
    const active = await client.listJobs({ status: 'active' });
    assert.deepEqual(
      [active.jobs.map((job) => job.type), active.next],
      [['list.other'], null],
      'a status name and no more pages',
    );
    const none = await clientOf('someone-else').listJobs({ type: 'list.page' });
    assert.deepEqual([none.jobs, none.next], [[], null], 'another user sees none of them');
  });

  it('rejects a bad cursor with a typed HTTP error, and an unreachable API with a network error', async () => {
    const client = clientOf('lister-2');
    const refused = await client.listJobs({ before: 'not-a-cursor' }).then(
      () => null,
      (error: unknown) => error,
    );
    assert.ok(refused instanceof JobTrackerHttpError, `a JobTrackerHttpError: ${String(refused)}`);
    assert.deepEqual([refused.status, refused.code], [400, 'invalid_query']);
    const offline = createJobClient({
      baseUrl: `http://127.0.0.1:${await closedPort()}/api`,
      storage: null,
      shareTabs: false,
    });
    await assert.rejects(offline.listJobs(), JobTrackerNetworkError, 'a JobTrackerNetworkError');
  });
});
