/** A change as it is delivered live: `data` is the job's wire JSON, serialised once for every subscriber. */
export interface LiveEvent {
  cursor: number;
  ownerId: string;
  jobId: string;
  version: number;
  data: string;
}

export type LiveListener = (event: LiveEvent) => void;

/** Fans each change out to the open streams of the job's owner, and only theirs. */
export class EventHub {
  readonly #byOwner = new Map<string, Set<LiveListener>>();
  #count = 0;

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

  publish(event: LiveEvent): void {
    const listeners = this.#byOwner.get(event.ownerId);
    if (!listeners) return;
    for (const listener of listeners) listener(event);
  }

  /** Open subscriptions, of one owner or of all. */
  subscriberCount(ownerId?: string): number {
    return ownerId === undefined ? this.#count : (this.#byOwner.get(ownerId)?.size ?? 0);
  }
}
