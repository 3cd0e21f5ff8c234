import type { JobRecord } from '../jobs/job-record.js';
import type { StoredEvent } from '../storage/store.js';
import { EventHub, type LiveEvent } from '../stream/hub.js';
import type { JobChange, JobChangeListener } from './types.js';

/**
 * Where changes leave the engine: the live streams (through the hub), the change listeners, and the
 * cursors that say how far this instance has published, overall and per owner.
 */
export class Publisher {
  readonly hub = new EventHub();
  readonly #listeners = new Set<JobChangeListener>();
  readonly #ownerCursors = new Map<string, number>();
  readonly #ownerMaxCursor: (ownerId: string) => Promise<number>;
  readonly #onError: (error: unknown) => void;
  #publishedCursor = 0;

  constructor(ownerMaxCursor: (ownerId: string) => Promise<number>, onError: (error: unknown) => void) {
    this.#ownerMaxCursor = ownerMaxCursor;
    this.#onError = onError;
  }

  /** The cursor of the newest published event: everything at or below it can be replayed. */
  get publishedCursor(): number {
    return this.#publishedCursor;
  }

  /** Where publishing starts (at start-up): the log's end, or a cursor above every one used before. */
  startAt(cursor: number): void {
    this.#publishedCursor = cursor;
  }

  publish(event: StoredEvent): void {
    this.#publishedCursor = event.cursor;
    this.#ownerCursors.set(event.ownerId, event.cursor);
    this.hub.publish(toLiveEvent(event));
  }

  /** Publishes an event read from the log, unless it was already: what a feed reader delivers. */
  deliver(event: StoredEvent): void {
    if (event.cursor <= this.#publishedCursor) return;
    this.publish(event);
    if (this.#listeners.size === 0) return;
    const job = JSON.parse(event.data) as Pick<JobRecord, 'type' | 'status'>;
    this.notify({ id: event.jobId, type: job.type, status: job.status });
  }

  onChange(listener: JobChangeListener): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  notify(change: JobChange): void {
    for (const listener of this.#listeners) {
      try {
        listener(change);
      } catch (error) {
        this.#onError(error);
      }
    }
  }

  /** The highest cursor of any event of this owner: equal cursors mean nothing changed for them. */
  async ownerCursor(ownerId: string): Promise<number> {
    const known = this.#ownerCursors.get(ownerId);
    if (known !== undefined) return known;
    const stored = await this.#ownerMaxCursor(ownerId);
    // An event published while the database was read is newer than what it answered.
    const latest = Math.max(stored, this.#ownerCursors.get(ownerId) ?? 0);
    this.#ownerCursors.set(ownerId, latest);
    return latest;
  }
}

export function toLiveEvent(event: StoredEvent): LiveEvent {
  return {
    cursor: event.cursor,
    ownerId: event.ownerId,
    jobId: event.jobId,
    version: event.version,
    data: event.data,
    progressFrom: event.progressFrom,
    coalescedFrom: event.coalescedFrom,
  };
}
