/// <reference types="@jobtracker/test-support/mocha" />
// Proves the browser test setup end to end: a page in Chromium talks to the real jobtracker server
// that web-test-runner.config.mjs starts, as a user (JWT) and as a worker (worker key).
import type { CreateJobResponse, ErrorBody, Job, JsonValue } from '@jobtracker/sdk';
import { assert, assertEqual } from '@jobtracker/test-support/browser-assert';
import {
  streamCount,
  testConfig,
  tokenFor,
  uniqueUser,
  workerCall,
} from '@jobtracker/test-support/browser-env';

interface ClaimResponse {
  job: Job;
  ownerId: string;
  input: JsonValue | null;
  leaseToken: string;
  leaseExpiresAt: string;
}

async function getJob(apiUrl: string, id: string, token: string): Promise<Job> {
  const response = await fetch(`${apiUrl}/jobs/${id}`, { headers: { Authorization: `Bearer ${token}` } });
  assertEqual(response.status, 200, `GET /jobs/${id} status`);
  const body = (await response.json()) as { job: Job };
  return body.job;
}

describe('browser test infrastructure', () => {
  it('creates a job as a user, runs it as a worker and reads it back, against the real server', async () => {
    const { apiUrl } = await testConfig();
    const user = uniqueUser('infra');
    const token = await tokenFor(user);
    const type = `infra.${user}`;

    const response = await fetch(`${apiUrl}/jobs`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' },
      body: JSON.stringify({ type, scope: 'check', title: 'Infra check', input: { depth: 2 } }),
    });
    assertEqual(response.status, 201, 'POST /jobs status');
    const created = (await response.json()) as CreateJobResponse;
    assertEqual(
      [created.created, created.job.type, created.job.scope, created.job.title, created.job.status],
      [true, type, 'check', 'Infra check', 'pending'],
      'created job',
    );
    const id = created.job.id;

    const claim = await workerCall<ClaimResponse>('/claim', { types: [type], workerId: 'browser-infra' });
    assertEqual(claim.status, 200, 'claim status');
    assertEqual(
      [claim.json.job.id, claim.json.ownerId, claim.json.input, claim.json.job.status],
      [id, user, { depth: 2 }, 'running'],
      'claimed job',
    );
    assert(claim.json.leaseToken.length > 0, 'the claim carries a lease token');

    const running = await getJob(apiUrl, id, token);
    assertEqual(
      [running.id, running.type, running.scope, running.title, running.status, running.attempt],
      [id, type, 'check', 'Infra check', 'running', 1],
      'job read back while running',
    );
    assert(running.startedAt !== null, 'a running job has startedAt');
    assert(running.version > created.job.version, 'claiming raised the version');
    assert(!('input' in running) && !('ownerId' in running), 'no input or owner on the wire');

    const complete = await workerCall<{ job: Job }>(`/jobs/${id}/complete`, {
      leaseToken: claim.json.leaseToken,
      result: { url: '/programs/42' },
    });
    assertEqual(complete.status, 200, 'complete status');
    const done = await getJob(apiUrl, id, token);
    assertEqual(
      [done.status, done.progress, done.result],
      ['completed', 100, { url: '/programs/42' }],
      'job read back after completion',
    );
    assert(done.completedAt !== null, 'a completed job has completedAt');

    const otherUser = await tokenFor(uniqueUser('infra-other'));
    const hidden = await fetch(`${apiUrl}/jobs/${id}`, { headers: { Authorization: `Bearer ${otherUser}` } });
    assertEqual(hidden.status, 404, 'another user gets 404 for the job');

    assertEqual(typeof (await streamCount()), 'number', 'health reports the open streams');
  });

  it('answers a request without a token with 401 and a JSON error body', async () => {
    const { apiUrl } = await testConfig();
    const response = await fetch(`${apiUrl}/jobs`);
    assertEqual(response.status, 401, 'status without a token');
    assert(
      response.headers.get('content-type')?.includes('application/json'),
      `a JSON error, not ${response.headers.get('content-type')}`,
    );
    const body = (await response.json()) as ErrorBody;
    assertEqual(body.error.code, 'unauthorized', 'error code');
    assert(typeof body.error.message === 'string' && body.error.message.length > 0, 'an error message');
  });
});
