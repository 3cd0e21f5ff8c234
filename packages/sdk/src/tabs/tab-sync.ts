import { pageHidden } from '../page/page-events.js';
import type { JobUpdate } from '../store/job-stores.js';
import type { Connection, ConnectionStatus, SyncMessage } from '../transport/connection.js';
import type { Job } from '../wire.js';
import { joinTabs, type TabLink } from './tabs.js';

/** What the tabs that share one connection say to each other. */
export type TabMessage =
  /** From the leader: a change its connection delivered. */
  | { type: 'sync'; message: SyncMessage }
  /** From the leader: its connection's new status. */
  | { type: 'status'; status: ConnectionStatus }
  /** From a tab that joins: the leader answers with `state`. */
  | { type: 'hello' }
  /** From the leader: everything a joining tab needs to catch up. */
  | { type: 'state'; jobs: Job[]; cursor: string | null; status: ConnectionStatus }
  /** From a follower whose page was shown or focused, or whose network came back: check the server now. */
  | { type: 'wake' }
  /** From a follower whose page is visible: the leader keeps its connection going while its own is hidden. */
  | { type: 'seen' };

/** What a connection reports to the tab it runs in. */
export interface ConnectionHooks {
  deliver(message: SyncMessage): void;
  status(status: ConnectionStatus): void;
  /** True while nobody looks at any page of these tabs: polling pauses. */
  hidden(): boolean;
}

export interface TabSyncOptions {
  /** Takes the jobs that this tab's connection delivered or that the leader relayed. */
  deliver(update: JobUpdate): void;
  status(status: ConnectionStatus): void;
  /** What this tab tells a tab that joins while it leads. */
  current(): { jobs: Job[]; cursor: string | null; status: ConnectionStatus };
  /** Opens the connection to the server, once this tab leads. */
  connect(hooks: ConnectionHooks): Connection;
}

/**
 * The messages' version, part of the channel's name: bump it whenever a message changes. Tabs of
 * another SDK build (open before a deploy) then elect their own leader instead of following one they
 * cannot understand.
 */
const PROTOCOL = 'tabs-2';
/** How often a visible follower tells the leader so. */
const SEEN_EVERY_MS = 30_000;
/** How long a follower's `seen` counts: the leader's page is hidden, but that follower is looked at. */
const SEEN_FOR_MS = 60_000;

/**
 * Shares one connection among the tabs of this browser that open the same `name`: the tab that leads
 * runs it and relays what it delivers; the others follow, and take over from the same cursor when the
 * leader leaves. A message this build does not understand is ignored.
 */
export function shareConnection(name: string, options: TabSyncOptions, join = joinTabs): Connection {
  /** This tab's connection, while it leads. */
  let leading: Connection | null = null;
  let followerSeenAt = 0;
  const hooks: ConnectionHooks = {
    deliver(message) {
      if (leading) tabs.post({ type: 'sync', message });
      options.deliver(message);
    },
    status(status) {
      options.status(status);
      if (leading) tabs.post({ type: 'status', status });
    },
    hidden: () => pageHidden() && Date.now() - followerSeenAt > SEEN_FOR_MS,
  };
  const receive = (data: unknown) => {
    const message = data as TabMessage | null | undefined;
    if (leading) {
      if (message?.type === 'hello') tabs.post({ type: 'state', ...options.current() });
      else if (message?.type === 'wake' || message?.type === 'seen') {
        followerSeenAt = Date.now();
        if (message.type === 'wake') leading.wake();
      }
    } else if (message?.type === 'sync') options.deliver(message.message);
    else if (message?.type === 'status') options.status(message.status);
    else if (message?.type === 'state') {
      options.deliver({ kind: 'snapshot', jobs: message.jobs, cursor: message.cursor });
      options.status(message.status);
    }
  };
  const tabs: TabLink<TabMessage> = join(`${name}:${PROTOCOL}`, {
    lead() {
      const connection = options.connect(hooks);
      leading = connection;
      return () => {
        leading = null;
        connection.stop();
      };
    },
    receive,
  });
  tabs.post({ type: 'hello' });
  const seen = setInterval(() => !leading && !pageHidden() && tabs.post({ type: 'seen' }), SEEN_EVERY_MS);
  return {
    wake: () => (leading ? leading.wake() : tabs.post({ type: 'wake' })),
    stop() {
      clearInterval(seen);
      tabs.leave();
    },
  };
}
