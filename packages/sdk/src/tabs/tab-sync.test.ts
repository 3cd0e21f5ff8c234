import assert from 'node:assert/strict';
import { afterEach, describe, it, mock } from 'node:test';
import { eventually } from '@jobtracker/test-support/tokens';
import { createHttp } from '../http/http.js';
import { createJobStores, type JobUpdate } from '../store/job-stores.js';
import { fakeJobApi, wireJob } from '../testing/fake-job-api.js';
import {
  type Connection,
  type ConnectionStatus,
  type SyncMessage,
  startConnection,
} from '../transport/connection.js';
import type { Job } from '../wire.js';
import { type ConnectionHooks, shareConnection } from './tab-sync.js';
import type { TabLink, TabOptions } from './tabs.js';

interface Member {
  name: string;
  options: TabOptions;
  left: boolean;
  stopLeading: (() => void) | null;
}

/**
 * The tabs of one browser, as `joinTabs` sees them: what one tab posts reaches every other tab on the
 * same name (a copy, a moment later), and the first tab waiting on a name leads until it leaves.
 */
function fakeBrowser() {
  const members: Member[] = [];
  const names: string[] = [];
  const later = (task: () => void) => queueMicrotask(task);
  const nextLeader = (name: string) => {
    const waiting = members.filter((member) => member.name === name && !member.left);
    const leader = waiting[0];
    if (!leader || leader.stopLeading) return;
    later(() => {
      if (!leader.left && !leader.stopLeading) leader.stopLeading = leader.options.lead();
    });
  };
  /** Posts `message` to the tabs on `name`, as a tab of any build could. */
  const broadcast = (name: string, message: unknown, from?: Member) => {
    for (const member of members) {
      if (member === from || member.left || member.name !== name) continue;
      const copy = structuredClone(message);
      later(() => !member.left && member.options.receive(copy));
    }
  };
  function join<M>(name: string, options: TabOptions): TabLink<M> {
    const member: Member = { name, options, left: false, stopLeading: null };
    members.push(member);
    names.push(name);
    nextLeader(name);
    return {
      post: (message) => {
        if (member.left) throw new Error('posted on a closed channel');
        broadcast(name, message, member);
      },
      leave() {
        member.left = true;
        member.stopLeading?.();
        member.stopLeading = null;
        nextLeader(name);
      },
    };
  }
  return { join, broadcast, names };
}

const settle = () => new Promise((resolve) => setImmediate(resolve));
const live: ConnectionStatus = { state: 'live', lastContactAt: 1 };
const job = (id: string, version = 1) => ({ id, version, status: 'running' }) as Job;

/** Every tab a test opened: stopped after it, even when it fails (their timers would keep Node alive). */
const opened: Connection[] = [];

/** One tab's side of the sharing, recording what reached it and what its connection was asked. */
function tab(browser: ReturnType<typeof fakeBrowser>, name = 'jobtracker:/api:alice') {
  const record = {
    delivered: [] as JobUpdate[],
    statuses: [] as ConnectionStatus[],
    connections: 0,
    stopped: 0,
    wakes: 0,
    hooks: null as ConnectionHooks | null,
    current: { jobs: [job('held')], cursor: '7' as string | null, status: live },
  };
  const shared = shareConnection(
    name,
    {
      deliver: (update) => record.delivered.push(update),
      status: (status) => record.statuses.push(status),
      current: () => record.current,
      connect(hooks) {
        record.connections++;
        record.hooks = hooks;
        return {
          wake: () => record.wakes++,
          stop: () => record.stopped++,
        };
      },
    },
    browser.join,
  );
  opened.push(shared);
  return { record, shared };
}

/** A leader and `count` followers that have caught up with it (their catch-up is forgotten). */
async function leaderAndFollowers(count = 1) {
  const browser = fakeBrowser();
  const leader = tab(browser);
  await settle();
  const followers = Array.from({ length: count }, () => tab(browser));
  // The followers' hello, then the leader's answer.
  await settle();
  await settle();
  const caughtUp = followers.map((follower) => ({ ...follower.record }));
  for (const { record } of followers) record.delivered = [];
  for (const { record } of followers) record.statuses = [];
  return { browser, leader, followers, follower: followers[0] as ReturnType<typeof tab>, caughtUp };
}

afterEach(() => {
  for (const shared of opened.splice(0)) shared.stop();
  mock.timers.reset();
  Reflect.deleteProperty(globalThis, 'document');
});

describe('tab sync', () => {
  it('opens one connection for the tabs of a browser, versioned by the messages they speak', async () => {
    const browser = fakeBrowser();
    const first = tab(browser);
    await settle();
    const second = tab(browser);
    await settle();
    assert.deepEqual(
      [first.record.connections, second.record.connections],
      [1, 0],
      'the first tab leads, the second follows',
    );
    assert.deepEqual(browser.names, ['jobtracker:/api:alice:tabs-2', 'jobtracker:/api:alice:tabs-2']);
  });

  it('hands a joining tab the jobs, cursor and status the leader holds', async () => {
    const { leader, caughtUp } = await leaderAndFollowers();
    assert.deepEqual(caughtUp[0]?.delivered, [{ kind: 'snapshot', jobs: [job('held')], cursor: '7' }]);
    assert.deepEqual(caughtUp[0]?.statuses, [live]);
    assert.deepEqual(leader.record.delivered, [], 'the leader takes nothing from itself');
  });

  it("relays what the leader's connection delivers and reports to every tab, the leader's own included", async () => {
    const { leader, followers } = await leaderAndFollowers(2);
    const message: SyncMessage = { kind: 'jobs', jobs: [job('a', 2)], cursor: '8' };
    leader.record.hooks?.deliver(message);
    leader.record.hooks?.status({ state: 'polling', lastContactAt: 2 });
    await settle();
    for (const side of [leader, ...followers]) {
      assert.deepEqual(side.record.delivered, [message], 'the change, in every tab');
      assert.deepEqual(side.record.statuses, [{ state: 'polling', lastContactAt: 2 }], 'the status');
    }
  });

  it("wakes the leader's connection from any tab", async () => {
    const { leader, follower } = await leaderAndFollowers();
    leader.shared.wake();
    follower.shared.wake();
    await settle();
    assert.equal(leader.record.wakes, 2, 'woken by itself and by the follower');
    assert.equal(follower.record.wakes, 0, 'a follower has no connection to wake');
  });

  it('keeps polling while the leader is hidden but a follower was seen visible in the last minute', async () => {
    mock.timers.enable({ apis: ['Date', 'setInterval'] });
    let visibility: DocumentVisibilityState = 'visible';
    Object.defineProperty(globalThis, 'document', {
      configurable: true,
      value: {
        get visibilityState() {
          return visibility;
        },
      },
    });
    const { leader, follower } = await leaderAndFollowers();
    const hidden = () => leader.record.hooks?.hidden();
    visibility = 'hidden';
    mock.timers.tick(60_001);
    await settle();
    assert.equal(hidden(), true, 'no tab is looked at');
    visibility = 'visible';
    mock.timers.tick(30_000);
    await settle();
    visibility = 'hidden';
    assert.equal(hidden(), false, 'the follower said it is seen');
    mock.timers.tick(60_001);
    await settle();
    assert.equal(hidden(), true, 'hidden followers say nothing: a minute later, nobody looks');
    follower.shared.wake();
    await settle();
    assert.equal(hidden(), false, 'a follower that wakes the leader is looked at');
  });

  it('passes the connection to the next tab when the leader leaves, and posts nothing once gone', async () => {
    const { leader, follower } = await leaderAndFollowers();
    const oldHooks = leader.record.hooks as ConnectionHooks;
    leader.shared.stop();
    await settle();
    assert.equal(leader.record.stopped, 1, "the leader's connection is stopped");
    assert.equal(follower.record.connections, 1, 'the follower leads now');
    oldHooks.status({ state: 'error', lastContactAt: 3 });
    oldHooks.deliver({ kind: 'jobs', jobs: [job('late')], cursor: '9' });
    await settle();
    assert.deepEqual(follower.record.delivered, [], 'nothing relayed from a connection that was stopped');
  });

  it('ignores messages it does not understand: those of an older build, or none at all', async () => {
    const { browser, leader, follower } = await leaderAndFollowers();
    const name = 'jobtracker:/api:alice:tabs-2';
    const strays: unknown[] = [
      { t: 'sync', m: { kind: 'snapshot', jobs: [job('old')], cursor: '1' } },
      { t: 'status', s: live },
      { t: 'hello' },
      { type: 'resync', jobs: [] },
      { type: 'constructor' },
      { type: '__proto__' },
      null,
      'sync',
      42,
    ];
    for (const stray of strays) browser.broadcast(name, stray);
    await settle();
    assert.deepEqual(
      [follower.record.delivered, follower.record.statuses],
      [[], []],
      'the follower took nothing from them',
    );
    assert.equal(leader.record.wakes, 0, 'nor did they wake the leader');
  });
});

describe('tab sync with progress deltas', () => {
  /** A tab with its own stores, sharing one real connection to the fake API. */
  function storeTab(browser: ReturnType<typeof fakeBrowser>, api: ReturnType<typeof fakeJobApi>) {
    const stores = createJobStores();
    const shared = shareConnection(
      'jobtracker:/api:alice',
      {
        deliver: stores.take,
        status: () => {},
        current: () => ({ jobs: stores.list(), cursor: stores.cursor, status: live }),
        connect: (hooks) =>
          startConnection({
            ...hooks,
            http: createHttp({ baseUrl: 'http://jobs.test/api', fetch: api.fetch }),
            transport: 'sse',
            cursor: () => stores.cursor,
            job: (id) => stores.$jobs.get()[id],
            busy: () => true,
            offline: () => false,
          }),
      },
      browser.join,
    );
    opened.push(shared);
    return stores;
  }

  it('followers end up with the jobs and the cursor of the leader, through a snapshot it had to start over from', async () => {
    const api = fakeJobApi();
    api.put(wireJob('a'));
    api.put(wireJob('b'));
    const browser = fakeBrowser();
    const leader = storeTab(browser, api);
    await eventually(() => leader.$jobs.get().b, 3000, 'the leader is in step');
    const follower = storeTab(browser, api);
    await eventually(() => follower.$jobs.get().b, 3000, 'the follower caught up');
    api.progress('a', 10, 'one');
    api.progress('b', 50);
    api.quietly(wireJob('a', { version: 3, attempt: 2, progress: null }));
    api.progress('a', 5, 'again');
    api.progress('a', 6, 'again');
    await eventually(() => leader.$jobs.get().a?.version === 5, 3000, 'the leader has a');
    await eventually(() => leader.cursor === api.cursor, 3000, 'the leader’s cursor');
    await settle();
    assert.deepEqual(follower.$jobs.get(), leader.$jobs.get(), 'the same jobs');
    assert.deepEqual(leader.$jobs.get().a, api.job('a'), 'the server’s jobs');
    assert.deepEqual(leader.$jobs.get().b, api.job('b'));
    assert.equal(follower.cursor, leader.cursor, 'the same cursor');
    assert.equal(
      api.requests.filter((r) => r.path.endsWith('/jobs/stream')).length,
      2,
      'one stream, then one from no cursor, both by the leader',
    );
  });
});
