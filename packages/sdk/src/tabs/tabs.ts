/** What the tabs of one browser say to each other about one client. */
export interface TabLink<M> {
  post(message: M): void;
  leave(): void;
}

export interface TabOptions {
  /** Becomes the leader: start the one connection; return how to stop it. */
  lead(): () => void;
  /** A message from another tab: possibly of another build, so it is checked before it is trusted. */
  receive(message: unknown): void;
}

/** True where tabs can elect a leader and talk: Web Locks and BroadcastChannel. */
export const canShareTabs = () =>
  typeof BroadcastChannel === 'function' && !!globalThis.navigator?.locks?.request;

/**
 * Joins the tabs of this origin that share `name`: all of them hear each other's messages, and exactly
 * one at a time leads (holds the Web Lock). When the leader leaves or its tab closes, the lock passes to
 * a waiting tab, which then leads.
 */
export function joinTabs<M>(name: string, options: TabOptions): TabLink<M> {
  const channel = new BroadcastChannel(name);
  channel.onmessage = (event) => options.receive(event.data);
  const abort = new AbortController();
  let release: (() => void) | null = null;
  let stopLeading: (() => void) | null = null;
  navigator.locks
    .request(name, { signal: abort.signal }, () => {
      if (abort.signal.aborted) return;
      stopLeading = options.lead();
      return new Promise<void>((resolve) => {
        release = resolve;
      });
    })
    .catch(() => {
      // AbortError: left before leading
    });
  return {
    post: (message) => channel.postMessage(message),
    leave() {
      abort.abort();
      stopLeading?.();
      stopLeading = null;
      release?.();
      channel.close();
    },
  };
}
