/// <reference types="@jobtracker/test-support/mocha" />
import { assertEqual, delay, eventually } from '@jobtracker/test-support/browser-assert';
import type { JobUpdate } from '../store/job-stores.js';
import type { Connection, ConnectionStatus } from '../transport/connection.js';
import type { Job } from '../wire.js';
import { type ConnectionHooks, shareConnection } from './tab-sync.js';

const job = (id: string, version = 1) => ({ id, version, status: 'running' }) as Job;
const live: ConnectionStatus = { state: 'live', lastContactAt: 1 };
const opened: Connection[] = [];

/** A tab's side of the sharing, in this page (the channel and the lock work between two in one page). */
function tab(name: string) {
  const record = {
    delivered: [] as JobUpdate[],
    statuses: [] as ConnectionStatus[],
    hooks: null as ConnectionHooks | null,
  };
  const shared = shareConnection(name, {
    deliver: (update) => record.delivered.push(update),
    status: (status) => record.statuses.push(status),
    current: () => ({ jobs: [job('held')], cursor: '7', status: live }),
    connect(hooks) {
      record.hooks = hooks;
      return { wake() {}, stop() {} };
    },
  });
  opened.push(shared);
  return record;
}

afterEach(() => {
  for (const shared of opened.splice(0)) shared.stop();
});

describe('tab sync in the browser', () => {
  it('shares one connection over a Web Lock and BroadcastChannel', async () => {
    const name = `jobtracker:test:${crypto.randomUUID()}`;
    const leader = tab(name);
    await eventually(() => leader.hooks, 3000, 'the first tab to lead');
    const follower = tab(name);
    await eventually(() => follower.delivered.length > 0, 3000, "the leader's answer to the new tab");
    assertEqual(follower.delivered, [{ kind: 'snapshot', jobs: [job('held')], cursor: '7' }], 'the catch-up');
    leader.hooks?.deliver({ kind: 'jobs', jobs: [job('a', 2)], cursor: '8' });
    await eventually(() => follower.delivered.length === 2, 3000, 'the relayed change');
    assertEqual(follower.hooks, null, 'the follower opened no connection');
  });

  it('leads beside a tab of an older build, whatever that tab says, instead of following it', async () => {
    const name = `jobtracker:test:${crypto.randomUUID()}`;
    // A tab of the previous build: it holds the lock of the bare name and talks with one-letter keys.
    let releaseOldLock = () => {};
    const oldLock = navigator.locks.request(
      name,
      () =>
        new Promise<void>((resolve) => {
          releaseOldLock = resolve;
        }),
    );
    const oldChannel = new BroadcastChannel(name);
    const sameBuildChannel = new BroadcastChannel(`${name}:tabs-2`);
    try {
      const leader = tab(name);
      await eventually(() => leader.hooks, 3000, 'a tab of this build to lead its own connection');
      const follower = tab(name);
      await eventually(() => follower.delivered.length > 0, 3000, "the leader's answer to the new tab");
      follower.delivered.length = follower.statuses.length = 0;
      for (const channel of [oldChannel, sameBuildChannel]) {
        channel.postMessage({ t: 'sync', m: { kind: 'snapshot', jobs: [job('old')], cursor: '1' } });
        channel.postMessage({ t: 'status', s: { state: 'error', lastContactAt: null } });
        channel.postMessage({ type: 'from-the-future' });
        channel.postMessage('noise');
      }
      await delay(200);
      assertEqual(
        [follower.delivered, follower.statuses],
        [[], []],
        'nothing taken from messages not understood',
      );
    } finally {
      oldChannel.close();
      sameBuildChannel.close();
      releaseOldLock();
      await oldLock;
    }
  });
});
