/**
 * A change as it is delivered live: `data` is the job's wire JSON, serialised once for every subscriber.
 * `progressFrom` and `coalescedFrom` say whether it was a progress report (see `StoredEvent`).
 */
export interface LiveEvent {
  cursor: number;
  ownerId: string;
  jobId: string;
  version: number;
  data: string;
  progressFrom: number | null;
  coalescedFrom: number | null;
}

export type LiveListener = (event: LiveEvent) => void;

/**
 * Fans each change out to the open streams of the job's owner, and only theirs; and wakes the owner's
 * held polls, which wait apart from the streams (they are counted, and capped, on their own).
 */
export class EventHub {
  readonly #byOwner = new Map<string, Set<LiveListener>>();
  readonly #waitersByOwner = new Map<string, Set<() => void>>();
  #count = 0;
  #waiters = 0;

  subscribe(ownerId: string, listener: LiveListener): () => void {
    let listeners = this.#byOwner.get(ownerId);
    if (!listeners) {
      listeners = new Set();
      this.#byOwner.set(ownerId, listeners);
    }
    listeners.add(listener);
    this.#count++;
    return () => {
      if (!listeners.delete(listener)) return;
      this.#count--;
      if (listeners.size === 0) this.#byOwner.delete(ownerId);
    };
  }

  /** Calls `wake` once, at the owner's next event, unless what it returns is called first. */
  waitForEvent(ownerId: string, wake: () => void): () => void {
    let waiters = this.#waitersByOwner.get(ownerId);
    if (!waiters) {
      waiters = new Set();
      this.#waitersByOwner.set(ownerId, waiters);
    }
    // A function of its own, so that the same `wake` given twice is two waiters.
    const waiter = () => wake();
    waiters.add(waiter);
    this.#waiters++;
    return () => {
      if (!waiters.delete(waiter)) return;
      this.#waiters--;
      if (waiters.size === 0 && this.#waitersByOwner.get(ownerId) === waiters)
        this.#waitersByOwner.delete(ownerId);
    };
  }

  publish(event: LiveEvent): void {
    const listeners = this.#byOwner.get(event.ownerId);
    if (listeners) for (const listener of listeners) listener(event);
    const waiters = this.#waitersByOwner.get(event.ownerId);
    if (!waiters) return;
    this.#waitersByOwner.delete(event.ownerId);
    this.#waiters -= waiters.size;
    const woken = [...waiters];
    waiters.clear();
    for (const waiter of woken) waiter();
  }

  /** Open subscriptions, of one owner or of all. */
  subscriberCount(ownerId?: string): number {
    return ownerId === undefined ? this.#count : (this.#byOwner.get(ownerId)?.size ?? 0);
  }

  /** Waiters for the next event (held polls), of one owner or of all. */
  waiterCount(ownerId?: string): number {
    return ownerId === undefined ? this.#waiters : (this.#waitersByOwner.get(ownerId)?.size ?? 0);
  }
}
