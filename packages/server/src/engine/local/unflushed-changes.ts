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

  get isEmpty(): boolean {
    return this.#rows.size === 0 && this.#events.length === 0;
  }

  /** The version the database holds of a row changed here, if it was. */
  storedVersionOf(id: string): number | undefined {
    return this.#rows.get(id)?.storedVersion;
  }

  add(row: UnflushedRow, event: StoredEvent | null): void {
    this.#rows.set(row.record.id, row);
    if (event) this.#events.push(event);
  }

  /** Published events not yet in the log, the ones a flush is writing first, in cursor order. */
  unlogged(): StoredEvent[] {
    return [...this.#inFlight, ...this.#events];
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
  }

  /** Takes everything for a flush, or null when there is nothing. */
  take(): TakenChanges | null {
    if (this.isEmpty) return null;
    const taken = { rows: [...this.#rows.values()], events: this.#events };
    this.clear();
    this.#inFlight = taken.events;
    return taken;
  }

  /** The flush that took `inFlight` is over, written or not. */
  flushed(): void {
    this.#inFlight = [];
  }

  /** A flush failed and wrote nothing: what it took is unflushed again, under whatever changed since. */
  putBack(taken: TakenChanges): void {
    for (const row of taken.rows) {
      const later = this.#rows.get(row.record.id);
      this.#rows.set(row.record.id, later ? { record: later.record, storedVersion: row.storedVersion } : row);
    }
    this.#events = [...taken.events, ...this.#events];
    this.#inFlight = [];
  }
}
