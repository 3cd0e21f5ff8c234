import { isActive, type JobRecord } from '../../jobs/job-record.js';

/**
 * Local mode's cache of every pending and running job, by id and by deduplication key. It holds the
 * newest version of each, which may not be committed yet.
 */
export class ActiveJobs {
  readonly #byId = new Map<string, JobRecord>();
  readonly #idByKey = new Map<string, string>();
  /** The ids of each owner's active jobs, so a stream's snapshot does not scan every owner's. */
  readonly #idsByOwner = new Map<string, Set<string>>();

  get(id: string): JobRecord | undefined {
    return this.#byId.get(id);
  }

  values(): IterableIterator<JobRecord> {
    return this.#byId.values();
  }

  ownedBy(ownerId: string): JobRecord[] {
    const ids = this.#idsByOwner.get(ownerId);
    if (!ids) return [];
    const owned: JobRecord[] = [];
    for (const id of ids) {
      const job = this.#byId.get(id);
      if (job) owned.push(job);
    }
    return owned;
  }

  /** The active job holding this owner's deduplication key. */
  withKey(ownerId: string, activeKey: string): JobRecord | undefined {
    const id = this.#idByKey.get(keyOf(ownerId, activeKey));
    return id === undefined ? undefined : this.#byId.get(id);
  }

  /** `row` as read from the database, or the cached version when it is newer. */
  newest(row: JobRecord): JobRecord {
    const cached = this.#byId.get(row.id);
    return cached && cached.version > row.version ? cached : row;
  }

  /** Keeps an active job; a finished one leaves the cache. */
  remember(record: JobRecord): void {
    if (!isActive(record.status)) {
      this.forget(record.id);
      return;
    }
    this.#byId.set(record.id, record);
    let owned = this.#idsByOwner.get(record.ownerId);
    if (!owned) {
      owned = new Set();
      this.#idsByOwner.set(record.ownerId, owned);
    }
    owned.add(record.id);
    if (record.activeKey !== null) this.#idByKey.set(keyOf(record.ownerId, record.activeKey), record.id);
  }

  forget(id: string): void {
    const known = this.#byId.get(id);
    if (!known) return;
    this.#byId.delete(id);
    const owned = this.#idsByOwner.get(known.ownerId);
    owned?.delete(id);
    if (owned?.size === 0) this.#idsByOwner.delete(known.ownerId);
    if (known.activeKey === null) return;
    const key = keyOf(known.ownerId, known.activeKey);
    if (this.#idByKey.get(key) === id) this.#idByKey.delete(key);
  }
}

const keyOf = (ownerId: string, activeKey: string) => `${ownerId}\u0000${activeKey}`;
