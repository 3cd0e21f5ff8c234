/** True while the page is hidden: another tab in front, a minimized window, a locked screen. */
export const pageHidden = () => globalThis.document?.visibilityState === 'hidden';

/** True when the browser knows that it is offline. */
export const browserOffline = () => globalThis.navigator?.onLine === false;

/** What to do when the page changes; each is optional. */
export interface PageListeners {
  /** The window got the focus, or the network came back: a good moment to check the server. */
  wake?(): void;
  visible?(): void;
  hidden?(): void;
  /** The page is left: unloaded, or kept in the back-forward cache. */
  leave?(): void;
  /** The page came back from the back-forward cache. */
  restore?(): void;
  /** Another page of this origin changed `key` in `localStorage`. */
  storage?(key: string | null): void;
}

/** Listens to the page until the returned function is called; outside a browser page it does nothing. */
export function listenToPage(page: PageListeners): () => void {
  const controller = new AbortController();
  // Outside a page (Node, a worker) the global scope or the document is missing: nothing to listen to.
  const on = (target: Partial<EventTarget> | undefined, type: string, listener?: (event: never) => unknown) =>
    listener && target?.addEventListener?.(type, listener as EventListener, { signal: controller.signal });
  const { wake, restore, storage } = page;
  on(globalThis, 'online', wake);
  on(globalThis, 'focus', wake);
  on(globalThis, 'pagehide', page.leave);
  on(globalThis, 'pageshow', restore && ((event: PageTransitionEvent) => event.persisted && restore()));
  on(globalThis, 'storage', storage && ((event: StorageEvent) => storage(event.key)));
  on(globalThis.document, 'visibilitychange', () => (pageHidden() ? page.hidden?.() : page.visible?.()));
  return () => controller.abort();
}
