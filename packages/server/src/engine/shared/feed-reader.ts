import type { JobStore } from '../../storage/store.js';
import { every } from '../../util/every.js';
import type { Publisher } from '../publisher.js';

/** Events read from the log at once. */
const READ_BATCH = 1000;
/** The log is read this often even without notifications (a silently broken listener). */
const SAFETY_READ_MS = 5000;

/**
 * Shared mode's delivery: every event any instance commits, this one's included, is published from the
 * log in cursor order when the store's change feed says the log grew.
 */
type FeedStore = Pick<JobStore, 'feed' | 'maxCursor' | 'eventsAfterAll'>;

export class FeedReader {
  readonly #store: FeedStore;
  readonly #publisher: Publisher;
  readonly #onError: (error: unknown) => void;
  #read: Promise<void> | null = null;
  #nextRead: Promise<void> | null = null;
  #stopSafetyReads: (() => void) | null = null;

  constructor(store: FeedStore, publisher: Publisher, onError: (error: unknown) => void) {
    this.#store = store;
    this.#publisher = publisher;
    this.#onError = onError;
  }

  /** Starts listening and publishing from the log's end. */
  async start(): Promise<void> {
    // Listening starts before the log's end is read: a commit in between is then read, not missed.
    await this.#store.feed?.start((cursor) => {
      if (cursor === null || cursor > this.#publisher.publishedCursor) this.catchUp().catch(this.#onError);
    });
    this.#publisher.startAt(await this.#store.maxCursor());
    this.#stopSafetyReads = every(SAFETY_READ_MS, () => this.catchUp(), this.#onError);
  }

  async stop(): Promise<void> {
    await this.#store.feed?.stop();
    this.#stopSafetyReads?.();
    this.#stopSafetyReads = null;
  }

  /**
   * Publishes every event of the log after the last one published, in cursor order. One read at a
   * time: a call during a read is answered by the next one, which starts when it ends, so a caller
   * waits for at most two reads however busy the log is.
   */
  catchUp(): Promise<void> {
    if (!this.#read) {
      this.#read = this.#readLog().finally(() => {
        this.#read = null;
      });
      return this.#read;
    }
    this.#nextRead ??= this.#read
      .catch(() => {})
      .then(() => {
        this.#nextRead = null;
        return this.catchUp();
      });
    return this.#nextRead;
  }

  async #readLog(): Promise<void> {
    for (;;) {
      const events = await this.#store.eventsAfterAll(this.#publisher.publishedCursor, READ_BATCH);
      for (const event of events) this.#publisher.deliver(event);
      if (events.length < READ_BATCH) return;
    }
  }
}
