// A BullMQ queue seen by its users: two worker processes and a bridge process on the real Redis, a real
// server, and each user's view through the SDK client. Each test has its own queue, removed after.
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { createJobClient, type Job } from '@jobtracker/sdk';
import { startFaultProxy } from '@jobtracker/test-support/fault-proxy';
import { SECRET, SseReader, tokenFor, WORKER_KEY } from '@jobtracker/test-support/server';
import { type ServerProcess, startServerProcess } from '@jobtracker/test-support/server-process';
import { Queue } from 'bullmq';
import { cancelledKey, keptJobKey, rawRedis } from '../keys.js';
import { connection, ensureRedis } from '../testing/redis.js';

const run = randomUUID().slice(0, 8);
const CANCELLED = 'Cancelled by its user';
const names = {
  progress: `jt-progress-${run}`,
  retry: `jt-retry-${run}`,
  waiting: `jt-waiting-${run}`,
  active: `jt-active-${run}`,
  restart: `jt-restart-${run}`,
  outage: `jt-outage-${run}`,
  cancelDown: `jt-cancel-down-${run}`,
  redisDown: `jt-redis-down-${run}`,
  cancelAway: `jt-cancel-away-${run}`,
  removeOnEnd: `jt-remove-on-end-${run}`,
  removedWhileDown: `jt-removed-while-down-${run}`,
};
/** Worked by the worker processes; `waiting` is not, so its jobs stay waiting. */
const worked = [
  names.progress,
  names.retry,
  names.active,
  names.restart,
  names.outage,
  names.removeOnEnd,
  names.removedWhileDown,
];

/** Runs `check` until it stops throwing, every 100 ms; throws its last error after `ms`. */
async function eventually(check: () => Promise<void>, ms: number): Promise<void> {
  const deadline = Date.now() + ms;
  for (;;) {
    try {
      return await check();
    } catch (error) {
      if (Date.now() > deadline) throw error;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
}

interface Child {
  child: ChildProcess;
  output(): string;
  kill(signal?: NodeJS.Signals): Promise<void>;
}

/** The child processes still running: killed when the test process exits, whatever happened to it. */
const running = new Set<ChildProcess>();
process.once('exit', () => {
  for (const child of running) child.kill('SIGKILL');
});

function startChild(file: string, env: Record<string, string>, readyLine: string): Promise<Child> {
  const child = spawn(
    process.execPath,
    ['--conditions=jobtracker-source', '--import', 'tsx', fileURLToPath(new URL(file, import.meta.url))],
    { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let output = '';
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const started = new Promise<Child>((resolve, reject) => {
    const onData = (chunk: Buffer) => {
      output += chunk;
      if (output.includes(readyLine)) {
        resolve({
          child,
          output: () => output,
          async kill(signal = 'SIGKILL') {
            if (child.exitCode === null && child.signalCode === null) child.kill(signal);
            await exited;
          },
        });
      }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.once('exit', (code) => reject(new Error(`${file} exited with ${code}: ${output}`)));
  });
  running.add(child);
  child.once('exit', () => running.delete(child));
  return started;
}

describe('trackQueue: a BullMQ queue mirrored for its users', { timeout: 60_000 }, () => {
  let server: ServerProcess;
  let workers: Child[] = [];
  let bridge: Child;
  const queues = new Map<string, Queue>();
  const queue = (name: string) => {
    let found = queues.get(name);
    if (!found) {
      found = new Queue(name, { connection });
      queues.set(name, found);
    }
    return found;
  };
  const bridgeFor = (queueNames: string[], env: Record<string, string> = {}) =>
    startChild(
      '../testing/bridge-process.ts',
      { QUEUES: queueNames.join(','), BASE_URL: `${server.url}/api`, WORKER_KEY, ...env },
      'bridge ready',
    );
  const clientOf = (user: string) =>
    createJobClient({ baseUrl: `${server.url}/api`, token: tokenFor(user), storage: null, shareTabs: false });
  const jobsOf = async (user: string, type: string): Promise<Job[]> =>
    (await clientOf(user).listJobs({ type, limit: 200 })).jobs;

  const streams: AbortController[] = [];
  /** What the user's own event stream (as their browser gets it) carried: every job and progress event's data. */
  async function userStream(user: string) {
    const controller = new AbortController();
    streams.push(controller);
    const response = await fetch(`${server.url}/api/jobs/stream`, {
      headers: { Authorization: `Bearer ${tokenFor(user)}` },
      signal: controller.signal,
    });
    const reader = new SseReader(response);
    await reader.until(() => reader.ready.length === 1, 5000, 'ready');
    return () =>
      reader.events
        .filter((event) => event.event === 'progress' || event.event === 'job')
        .map((event) => JSON.parse(event.data) as Partial<Job>);
  }

  before(async () => {
    ensureRedis();
    server = await startServerProcess({
      env: { JOBTRACKER_SECRET: SECRET, JOBTRACKER_WORKER_KEY: WORKER_KEY },
    });
    const env = { QUEUES: worked.join(',') };
    [workers[0], workers[1], bridge] = (await Promise.all([
      startChild('../testing/worker-process.ts', env, 'workers ready'),
      startChild('../testing/worker-process.ts', env, 'workers ready'),
      bridgeFor([names.progress, names.retry, names.waiting, names.active, names.outage, names.removeOnEnd]),
    ])) as [Child, Child, Child];
  });

  after(async () => {
    for (const controller of streams) controller.abort();
    await Promise.all([...workers, bridge].filter(Boolean).map((child) => child.kill('SIGKILL')));
    // Every queue of the run, also those a skipped test left to the workers and the bridge alone.
    for (const name of Object.values(names)) queue(name);
    for (const found of queues.values()) {
      await found.obliterate({ force: true }).catch(() => {});
      // The bridge's own keys beside the queue's (its stream position, the jobs it tracks).
      const client = (await found.client) as unknown as {
        keys(pattern: string): Promise<string[]>;
        del(...keys: string[]): Promise<number>;
      };
      const left = await client.keys(`${found.toKey('')}*`);
      if (left.length > 0) await client.del(...left);
      await found.close();
    }
    await server?.kill();
    workers = [];
  });

  it('shows a job with its progress and message, then its completion, as one tracked job', async () => {
    const user = `alice-${run}`;
    const seen = await userStream(user);
    const added = await queue(names.progress).add('render', {
      userId: user,
      title: 'Render intro.mp4',
      steps: 4,
      stepMs: 500,
    });
    await eventually(async () => {
      const [job] = await jobsOf(user, names.progress);
      assert.equal(job?.status, 'completed');
    }, 15_000);
    const jobs = await jobsOf(user, names.progress);
    assert.equal(jobs.length, 1, 'one tracked job');
    const [job] = jobs as [Job];
    assert.equal(job.title, 'Render intro.mp4');
    assert.equal(job.progress, 100);
    assert.equal(job.message, 'Step 4 of 4');
    assert.deepEqual((job.result as { steps: number }).steps, 4);
    const progress = seen().map((event) => event.progress);
    assert.ok(
      progress.some((value) => typeof value === 'number' && value > 0 && value < 100),
      `progress was seen while it ran: ${JSON.stringify(seen())}`,
    );
    assert.ok(added.id, 'BullMQ gave the job an id');
    assert.deepEqual(await jobsOf(`bob-${run}`, names.progress), [], 'another user sees none of it');
  });

  it('keeps a retried job on one card: the same job, attempt 1 then 2 with its progress anew, "Retrying (attempt 2 of 3)" between, never failed until the last attempt fails', async () => {
    const user = `carol-${run}`;
    const seen = await userStream(user);
    await queue(names.retry).add(
      'flaky',
      { userId: user, title: 'Flaky', failAttempts: 1, failAfterStep: 2, steps: 4, stepMs: 250 },
      { attempts: 3, backoff: { type: 'fixed', delay: 600 } },
    );
    await eventually(async () => {
      const jobs = await jobsOf(user, names.retry);
      assert.equal(jobs[0]?.status, 'completed');
    }, 20_000);
    const jobs = await jobsOf(user, names.retry);
    assert.equal(jobs.length, 1, 'one tracked job for all attempts');
    const [job] = jobs as [Job];
    assert.deepEqual([job.attempt, job.maxAttempts, job.progress], [2, 3, 100], 'finished in attempt 2 of 3');
    const events = seen();
    const trace = JSON.stringify(events);
    assert.deepEqual(
      [...new Set(events.map((event) => event.id))],
      [job.id],
      `one job id throughout: ${trace}`,
    );
    assert.ok(!events.some((event) => event.status === 'failed'), `never shown failed: ${trace}`);
    // What the user saw, in order: attempt 1 running with its progress, then waiting for attempt 2 with
    // the retry message and no progress, then attempt 2 running from nothing, started anew.
    const states = events.filter((event) => event.status !== undefined);
    const firstRun = states.findIndex((event) => event.status === 'running' && event.attempt === 1);
    const between = states.findIndex(
      (event, index) => index > firstRun && event.status === 'pending' && event.attempt === 1,
    );
    const secondRun = states.findIndex(
      (event, index) => index > between && event.status === 'running' && event.attempt === 2,
    );
    assert.ok(
      firstRun >= 0 && between > firstRun && secondRun > between,
      `attempt 1, waiting, attempt 2: ${trace}`,
    );
    const waiting = states[between] as Job;
    assert.deepEqual(
      [waiting.message, waiting.progress, waiting.maxAttempts],
      ['Retrying (attempt 2 of 3)', null, 3],
      'between the attempts',
    );
    const restarted = states[secondRun] as Job;
    assert.equal(restarted.progress, null, 'attempt 2 starts with no progress');
    assert.ok(
      Date.parse(restarted.startedAt ?? '') > Date.parse((states[firstRun] as Job).startedAt ?? ''),
      'attempt 2 started anew (its own startedAt)',
    );
    const atFirst = events.slice(0, events.indexOf(waiting)).map((event) => event.progress);
    // (Its last report, 50% just before it threw, may be dropped with the attempt if not yet sent.)
    assert.ok(
      atFirst.some((value) => typeof value === 'number' && value > 0),
      `attempt 1 showed progress: ${trace}`,
    );
    const atSecond = events.slice(events.indexOf(restarted)).map((event) => event.progress);
    assert.ok(atSecond.includes(25), `attempt 2 counted from the start again (25%): ${trace}`);
    assert.deepEqual(events.at(-1)?.status, 'completed');

    const dave = `dave-${run}`;
    await queue(names.retry).add('broken', { userId: dave, failAttempts: 5 }, { attempts: 2 });
    await eventually(async () => {
      const jobs = await jobsOf(dave, names.retry);
      assert.equal(jobs.length, 1);
      assert.equal(jobs[0]?.status, 'failed');
      assert.equal(jobs[0]?.error?.message, 'Attempt 2 broke');
      // Attempt 1 failed at once, before its start had been sent: still counted as an attempt.
      assert.deepEqual([jobs[0]?.attempt, jobs[0]?.maxAttempts], [2, 2], 'failed in attempt 2 of 2');
    }, 15_000);
  });

  it('shows the outcome of jobs that BullMQ removes as they end (removeOnComplete, removeOnFail)', async () => {
    const user = `mia-${run}`;
    const ending = queue(names.removeOnEnd);
    const done = await ending.add(
      'done',
      { userId: user, title: 'Removed once done', steps: 2, stepMs: 50 },
      { removeOnComplete: true },
    );
    const broken = await ending.add(
      'broken',
      { userId: user, title: 'Removed once failed', steps: 2, stepMs: 50, failAttempts: 1 },
      { removeOnFail: true, attempts: 1 },
    );
    await eventually(async () => {
      const byTitle = new Map((await jobsOf(user, names.removeOnEnd)).map((job) => [job.title, job]));
      const completed = byTitle.get('Removed once done');
      assert.equal(completed?.status, 'completed');
      assert.equal((completed?.result as { steps?: number } | null)?.steps, 2, 'with its result');
      const failed = byTitle.get('Removed once failed');
      assert.equal(failed?.status, 'failed');
      assert.equal(failed?.error?.message, 'Attempt 1 broke');
    }, 15_000);
    assert.equal(await ending.getJob(done.id as string), undefined, 'BullMQ removed the completed job');
    assert.equal(await ending.getJob(broken.id as string), undefined, 'and the failed one');
    assert.equal((await jobsOf(user, names.removeOnEnd)).length, 2, 'one tracked job each');
    // What the worker kept of them for the bridge goes once they ended.
    const redis = (await ending.client) as unknown as { keys(pattern: string): Promise<string[]> };
    await eventually(async () => assert.deepEqual(await redis.keys(keptJobKey(ending, '*')), []), 5000);
  });

  it('removes a waiting job from the queue when its user cancels it', async () => {
    const user = `erin-${run}`;
    const added = await queue(names.waiting).add('queued', { userId: user, title: 'Queued' });
    let id = '';
    await eventually(async () => {
      const [job] = await jobsOf(user, names.waiting);
      assert.equal(job?.status, 'pending');
      id = job.id;
    }, 10_000);
    await clientOf(user).cancel(id);
    await eventually(async () => {
      assert.equal(await queue(names.waiting).getJob(added.id as string), undefined, 'removed from BullMQ');
    }, 10_000);
    const [job] = await jobsOf(user, names.waiting);
    assert.equal(job?.status, 'cancelled');
  });

  it('fails a job the app removes from the queue before it ran, saying so', async () => {
    const user = `heidi-${run}`;
    const added = await queue(names.waiting).add('dropped', { userId: user, title: 'Dropped' });
    await eventually(async () => {
      const [job] = await jobsOf(user, names.waiting);
      assert.equal(job?.status, 'pending');
    }, 10_000);
    await added.remove();
    await eventually(async () => {
      const [job] = await jobsOf(user, names.waiting);
      assert.equal(job?.status, 'failed');
      assert.equal(job?.error?.message, 'The job was removed from the queue before it finished.');
    }, 10_000);
  });

  it("aborts an active job's processor in whichever worker process runs it when its user cancels it", async () => {
    const user = `frank-${run}`;
    const added = await queue(names.active).add('long', { userId: user, steps: 100, stepMs: 200 });
    let id = '';
    await eventually(async () => {
      const [job] = await jobsOf(user, names.active);
      assert.equal(job?.status, 'running');
      assert.ok((job.progress ?? 0) > 0, 'it made progress');
      id = job.id;
    }, 10_000);
    await clientOf(user).cancel(id);
    await eventually(async () => {
      const output = workers.map((worker) => worker.output()).join('\n');
      assert.match(output, new RegExp(`aborted ${names.active} ${added.id} Cancelled by its user`));
      assert.equal(await queue(names.active).getJobState(added.id as string), 'failed');
    }, 10_000);
    const [job] = await jobsOf(user, names.active);
    assert.equal(job?.status, 'cancelled');
  });

  it('loses and duplicates nothing when its bridge is killed mid-job and started again', async () => {
    const user = `grace-${run}`;
    let restartBridge = await bridgeFor([names.restart]);
    const first = await queue(names.restart).add('one', {
      userId: user,
      title: 'One',
      steps: 10,
      stepMs: 150,
    });
    await eventually(async () => {
      const [job] = await jobsOf(user, names.restart);
      assert.equal(job?.status, 'running');
      assert.ok((job.progress ?? 0) > 0, 'it made progress');
    }, 10_000);
    await restartBridge.kill('SIGKILL');
    // While it is down: the first job goes on and ends, a second is added and runs to its end.
    const second = await queue(names.restart).add('two', {
      userId: user,
      title: 'Two',
      steps: 2,
      stepMs: 50,
    });
    await eventually(async () => {
      assert.equal(await queue(names.restart).getJobState(first.id as string), 'completed');
      assert.equal(await queue(names.restart).getJobState(second.id as string), 'completed');
    }, 15_000);
    const third = await queue(names.restart).add('three', {
      userId: user,
      title: 'Three',
      steps: 30,
      stepMs: 100,
    });
    restartBridge = await bridgeFor([names.restart]);
    try {
      await eventually(async () => {
        const jobs = await jobsOf(user, names.restart);
        const byTitle = new Map(jobs.map((job) => [job.title, job]));
        assert.equal(byTitle.get('One')?.status, 'completed');
        assert.equal(byTitle.get('One')?.progress, 100);
        assert.equal(byTitle.get('Two')?.status, 'completed');
        assert.ok(byTitle.get('Three'), 'the job added while it was down');
      }, 15_000);
      // A second bridge on the same queue at once (say, a rolling deploy): still one card per job.
      const twin = await bridgeFor([names.restart]);
      await eventually(async () => {
        assert.equal(await queue(names.restart).getJobState(third.id as string), 'completed');
        const jobs = await jobsOf(user, names.restart);
        assert.equal(jobs.find((job) => job.title === 'Three')?.status, 'completed');
      }, 15_000);
      await twin.kill('SIGTERM');
      const jobs = await jobsOf(user, names.restart);
      assert.deepEqual(
        jobs.map((job) => job.title).sort(),
        ['One', 'Three', 'Two'],
        'one tracked job per BullMQ job',
      );
    } finally {
      await restartBridge.kill('SIGKILL');
    }
  });
  it('tells the user of a job BullMQ ran and removed while the bridge was down, once the bridge is back', async () => {
    const user = `nia-${run}`;
    const away = queue(names.removedWhileDown);
    let own = await bridgeFor([names.removedWhileDown]);
    try {
      await away.add('before', { userId: user, title: 'Before', steps: 1, stepMs: 20 });
      await eventually(async () => {
        const [job] = await jobsOf(user, names.removedWhileDown);
        assert.equal(job?.status, 'completed');
      }, 10_000);
      await own.kill('SIGKILL');
      const quick = await away.add(
        'quick',
        { userId: user, title: 'Done while away', steps: 1, stepMs: 20 },
        { removeOnComplete: true },
      );
      await eventually(async () => {
        assert.equal(await away.getJob(quick.id as string), undefined, 'ran, and removed by BullMQ');
      }, 10_000);
      own = await bridgeFor([names.removedWhileDown]);
      await eventually(async () => {
        const job = (await jobsOf(user, names.removedWhileDown)).find(
          (item) => item.title === 'Done while away',
        );
        assert.equal(job?.status, 'completed');
        assert.equal((job?.result as { steps?: number } | null)?.steps, 1, 'with its result');
      }, 10_000);
    } finally {
      await own.kill('SIGKILL');
    }
  });
  it('delivers what happened while the job API was down once it is back: progress and the completion, nothing twice', async () => {
    const user = `ivan-${run}`;
    const added = await queue(names.outage).add('long', {
      userId: user,
      title: 'Through an outage',
      steps: 8,
      stepMs: 150,
    });
    await eventually(async () => {
      const [job] = await jobsOf(user, names.outage);
      assert.equal(job?.status, 'running');
    }, 10_000);
    await server.kill();
    await eventually(async () => {
      assert.equal(await queue(names.outage).getJobState(added.id as string), 'completed');
    }, 15_000);
    server = await server.restart();
    await eventually(async () => {
      const jobs = await jobsOf(user, names.outage);
      assert.equal(jobs.length, 1, 'one tracked job');
      assert.equal(jobs[0]?.status, 'completed');
      assert.equal(jobs[0]?.progress, 100);
    }, 20_000);
  });
  it('acts on a cancel its user made while the bridge was down once it is back: the waiting job leaves the queue', async () => {
    const user = `judy-${run}`;
    let own = await bridgeFor([names.cancelDown]);
    try {
      const added = await queue(names.cancelDown).add('queued', { userId: user, title: 'Queued' });
      let id = '';
      await eventually(async () => {
        const [job] = await jobsOf(user, names.cancelDown);
        assert.equal(job?.status, 'pending');
        id = job.id;
      }, 10_000);
      await own.kill('SIGKILL');
      await clientOf(user).cancel(id);
      assert.ok(
        await queue(names.cancelDown).getJob(added.id as string),
        'still queued while the bridge is down',
      );
      own = await bridgeFor([names.cancelDown]);
      await eventually(async () => {
        assert.equal(
          await queue(names.cancelDown).getJob(added.id as string),
          undefined,
          'removed from BullMQ',
        );
      }, 10_000);
    } finally {
      await own.kill('SIGKILL');
    }
  });
  it('goes on after Redis was down for the bridge: a cancel made meanwhile lands once Redis is back, a job added meanwhile is tracked', async () => {
    const user = `kim-${run}`;
    // The bridge reaches Redis through a proxy that can refuse it; the test and BullMQ go on directly.
    const proxy = await startFaultProxy(connection);
    const own = await bridgeFor([names.redisDown], {
      JOBTRACKER_TEST_REDIS_URL: `redis://127.0.0.1:${new URL(proxy.url).port}`,
    });
    try {
      const queued = await queue(names.redisDown).add('queued', { userId: user, title: 'Queued' });
      let id = '';
      await eventually(async () => {
        const [job] = await jobsOf(user, names.redisDown);
        assert.equal(job?.status, 'pending');
        id = job.id;
      }, 10_000);
      proxy.down();
      await clientOf(user).cancel(id);
      await queue(names.redisDown).add('meanwhile', { userId: user, title: 'Added meanwhile' });
      await new Promise((resolve) => setTimeout(resolve, 1500));
      assert.ok(
        await queue(names.redisDown).getJob(queued.id as string),
        'still queued while the bridge cannot reach Redis',
      );
      proxy.up();
      await eventually(async () => {
        assert.equal(
          await queue(names.redisDown).getJob(queued.id as string),
          undefined,
          'removed from BullMQ once Redis is back',
        );
        const jobs = await jobsOf(user, names.redisDown);
        assert.deepEqual(jobs.map((job) => `${job.title}: ${job.status}`).sort(), [
          'Added meanwhile: pending',
          'Queued: cancelled',
        ]);
      }, 20_000);
    } finally {
      await own.kill('SIGKILL');
      await proxy.close();
    }
  });
  it('aborts an active job whose worker was cut off from Redis when its user cancelled it, once the worker is back', async () => {
    const user = `leo-${run}`;
    // This worker reaches Redis through a proxy that can refuse it; the bridge and the test go directly.
    const proxy = await startFaultProxy(connection);
    const [worker, own] = (await Promise.all([
      startChild(
        '../testing/worker-process.ts',
        {
          QUEUES: names.cancelAway,
          JOBTRACKER_TEST_REDIS_URL: `redis://127.0.0.1:${new URL(proxy.url).port}`,
        },
        'workers ready',
      ),
      bridgeFor([names.cancelAway]),
    ])) as [Child, Child];
    try {
      const long = queue(names.cancelAway);
      // One long step, silent until its end: no progress event that would make the bridge ask again.
      const added = await long.add('long', { userId: user, steps: 1, stepMs: 30_000 });
      let id = '';
      await eventually(async () => {
        const [job] = await jobsOf(user, names.cancelAway);
        assert.equal(job?.status, 'running');
        id = job.id;
      }, 10_000);
      proxy.down();
      await clientOf(user).cancel(id);
      const requests = async () => (await rawRedis(long)).zrange(cancelledKey(long), 0, -1);
      // The bridge asked for the cancel (kept and published) while the worker could not hear it.
      await eventually(async () => assert.deepEqual(await requests(), [added.id]), 10_000);
      await new Promise((resolve) => setTimeout(resolve, 500));
      assert.doesNotMatch(worker.output(), /aborted/, 'not aborted while cut off');
      proxy.up();
      await eventually(async () => {
        assert.match(worker.output(), new RegExp(`aborted ${names.cancelAway} ${added.id} ${CANCELLED}`));
        assert.equal(await long.getJobState(added.id as string), 'failed');
      }, 10_000);
      // Once the job ended, the request is dropped.
      await eventually(async () => assert.deepEqual(await requests(), []), 10_000);
      const [job] = await jobsOf(user, names.cancelAway);
      assert.equal(job?.status, 'cancelled');
    } finally {
      await Promise.all([worker.kill('SIGKILL'), own.kill('SIGKILL')]);
      await proxy.close();
    }
  });
});
