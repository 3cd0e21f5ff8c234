import type { JobRecord } from '../../jobs/job-record.js';
import type { StoredEvent } from '../../storage/store.js';

/** A job row changed in memory but not yet in the database. */
export interface UnflushedRow {
  record: JobRecord;
  /** The version of the row in the database. */
  storedVersion: number;
}

export interface TakenChanges {
  rows: UnflushedRow[];
  events: StoredEvent[];
}

/**
 * Local mode's write-behind: rows and events already published but not yet committed. A flush takes
 * them all; until it commits, its events stay visible to replays, and if it fails they are put back.
 */
export class UnflushedChanges {
  readonly #rows = new Map<string, UnflushedRow>();
  /** In cursor order. */
  #events: StoredEvent[] = [];
  /** Events a flush took and has not committed yet. */
  #inFlight: StoredEvent[] = [];
  /** `#events` and `#inFlight` by owner, so a replay reads only its owner's. */
  #eventsByOwner = new Map<string, StoredEvent[]>();
  #inFlightByOwner = new Map<string, StoredEvent[]>();

  get isEmpty(): boolean {
    return this.#rows.size === 0 && this.#events.length === 0;
  }

  /** The version the database holds of a row changed here, if it was. */
  storedVersionOf(id: string): number | undefined {
    return this.#rows.get(id)?.storedVersion;
  }

  add(row: UnflushedRow, event: StoredEvent | null): void {
    this.#rows.set(row.record.id, row);
    if (event) this.#append(event);
  }

  #append(event: StoredEvent): void {
    this.#events.push(event);
    const owned = this.#eventsByOwner.get(event.ownerId);
    if (owned) owned.push(event);
    else this.#eventsByOwner.set(event.ownerId, [event]);
  }

  /** Published events not yet in the log (of one owner, or all), the ones a flush is writing first, in cursor order. */
  unlogged(ownerId?: string): StoredEvent[] {
    if (ownerId === undefined) return [...this.#inFlight, ...this.#events];
    return [...(this.#inFlightByOwner.get(ownerId) ?? []), ...(this.#eventsByOwner.get(ownerId) ?? [])];
  }

  /** Everything unflushed except the row of `exceptId`, for a commit that writes that row itself. */
  pending(exceptId?: string): TakenChanges {
    return {
      rows: [...this.#rows.values()].filter((row) => row.record.id !== exceptId),
      events: this.#events,
    };
  }

  /** Forgets everything unflushed: it was committed. */
  clear(): void {
    this.#rows.clear();
    this.#events = [];
    this.#eventsByOwner = new Map();
  }

  /** Takes everything for a flush, or null when there is nothing. */
  take(): TakenChanges | null {
    if (this.isEmpty) return null;
    // In id order: each job's row lands at about the same point of every flush (so a job's commits stay
    // about a flush period apart however long the flush), and SQLite walks its primary key in order.
    const rows = [...this.#rows.values()].sort((a, b) => (a.record.id < b.record.id ? -1 : 1));
    const taken = { rows, events: this.#events };
    const byOwner = this.#eventsByOwner;
    this.clear();
    this.#inFlight = taken.events;
    this.#inFlightByOwner = byOwner;
    return taken;
  }

  /** The flush that took `inFlight` is over, written or not. */
  flushed(): void {
    this.#inFlight = [];
    this.#inFlightByOwner = new Map();
  }

  /** A flush failed and wrote nothing: what it took is unflushed again, under whatever changed since. */
  putBack(taken: TakenChanges): void {
    for (const row of taken.rows) {
      const later = this.#rows.get(row.record.id);
      this.#rows.set(row.record.id, later ? { record: later.record, storedVersion: row.storedVersion } : row);
    }
    const later = this.#events;
    this.#events = [];
    this.#eventsByOwner = new Map();
    for (const event of [...taken.events, ...later]) this.#append(event);
    this.flushed();
  }
}
