import type { JobStore, StoredEvent } from '../storage/store.js';
import { type Publisher, toLiveEvent } from './publisher.js';
import type { Changes } from './types.js';
import type { JobWriter } from './writer.js';

export interface ChangeReplayContext {
  store: Pick<JobStore, 'pruneWatermark' | 'pruneEvents' | 'eventsAfter'>;
  writer: Pick<JobWriter, 'catchUp' | 'watermark' | 'isLost' | 'unloggedEvents'>;
  publisher: Publisher;
  /** A replay longer than this becomes a reset. */
  replayLimit: number;
}

/**
 * Answers a client that resumes from a cursor: every event of its owner since then, or a reset when the
 * log cannot give them all. Keeps the watermark, the highest cursor pruning ever deleted.
 */
export class ChangeReplay {
  readonly #context: ChangeReplayContext;
  #watermark = 0;

  constructor(context: ChangeReplayContext) {
    this.#context = context;
  }

  /** Reads the watermark; returns it. */
  async start(): Promise<number> {
    this.#watermark = await this.#context.store.pruneWatermark();
    return this.#watermark;
  }

  /** Drops log events created before `before`, which raises the watermark. */
  async prune(before: number): Promise<void> {
    this.#watermark = await this.#context.store.pruneEvents(before);
  }

  /**
   * Whether nothing of this owner changed after `since`, and `since` is a cursor a replay would answer
   * from (not one to reset): what a held poll waits on. Reads what other instances committed up to it.
   */
  async isCurrent(ownerId: string, since: number): Promise<boolean> {
    const { writer, publisher } = this.#context;
    await writer.catchUp(since);
    const upTo = publisher.publishedCursor;
    if (since === 0 || writer.isLost(since) || since < this.#watermark || since > upTo) return false;
    return (await publisher.ownerCursor(ownerId)) <= since;
  }

  /**
   * Every event of this owner after `since`, in cursor order, without duplicates; `reset` when `since`
   * is 0 (the client has nothing), older than the log keeps, or not from this log: then `events` is
   * empty and the caller sends a snapshot.
   */
  async changesSince(ownerId: string, since: number): Promise<Changes> {
    const { store, writer, publisher, replayLimit } = this.#context;
    await writer.catchUp(since);
    this.#watermark = await writer.watermark(this.#watermark);
    const upTo = publisher.publishedCursor;
    const reset = { events: [], cursor: upTo, reset: true };
    if (since === 0 || writer.isLost(since) || since < this.#watermark || since > upTo) return reset;
    if ((await publisher.ownerCursor(ownerId)) <= since) return { events: [], cursor: upTo, reset: false };
    // Unlogged events are read before the log: one logged in between is then seen twice, never missed.
    const unlogged = writer
      .unloggedEvents(ownerId)
      .filter((event) => event.ownerId === ownerId && event.cursor > since && event.cursor <= upTo);
    const logged = await store.eventsAfter(ownerId, since, upTo, replayLimit + 1);
    if (logged.length > replayLimit) return reset;
    const byCursor = new Map<number, StoredEvent>();
    for (const event of [...logged, ...unlogged]) byCursor.set(event.cursor, event);
    const events = [...byCursor.values()].sort((a, b) => a.cursor - b.cursor).map(toLiveEvent);
    return { events, cursor: upTo, reset: false };
  }
}
