import type { Job } from '../wire.js';
import { type KeyValueStorage, readJson, writeJson } from './storage.js';

/** The last known jobs and the cursor they are current to, as kept between page loads. */
export interface SavedJobs {
  cursor: string | null;
  jobs: Job[];
}

interface Persisted extends SavedJobs {
  v: 1;
}

const SAVE_DELAY_MS = 200;
const PROGRESS_SAVE_DELAY_MS = 5000;

/**
 * What this browser keeps for one owner: the last known jobs (saved a moment after they change).
 * Nothing is read or written until `open` names the owner's key: nothing is kept under a key another
 * user could share. (Dismissals are not kept here: they are the job's `dismissedAt`, on the server.)
 */
export function createOwnerCache(storage: KeyValueStorage | null, current: () => SavedJobs) {
  let key: string | null = null;
  let saveTimer: ReturnType<typeof setTimeout> | undefined;
  let waiting = Infinity;
  const cancelSave = () => {
    clearTimeout(saveTimer);
    saveTimer = undefined;
    waiting = Infinity;
  };
  /** Where an earlier version kept this browser's dismissed ids; removed when found. */
  const legacyDismissedKey = () => `${key}:dismissed`;
  const save = () => {
    cancelSave();
    writeJson(storage, key as string, { v: 1, ...current() } satisfies Persisted);
  };

  return {
    /** Starts keeping what belongs to `ownerKey`; returns the jobs saved there, if any. */
    open(ownerKey: string): SavedJobs | null {
      key = ownerKey;
      const saved = readJson<Persisted>(storage, key);
      storage?.removeItem(legacyDismissedKey());
      return saved?.v === 1 ? saved : null;
    },
    /**
     * Saves the current jobs soon: changes that come together are written once. Progress (`lazily`)
     * waits longer, and leaving the page writes what waits: a running job costs a write every few
     * seconds, not one per update.
     */
    saveSoon(lazily = false) {
      const delay = lazily ? PROGRESS_SAVE_DELAY_MS : SAVE_DELAY_MS;
      if (!key || !storage || delay >= waiting) return;
      clearTimeout(saveTimer);
      waiting = delay;
      saveTimer = setTimeout(save, delay);
    },
    /** Writes a save still waiting at once: the page is being left. */
    flush() {
      if (saveTimer !== undefined) save();
    },
    /** Forgets everything kept for the owner. */
    clear() {
      cancelSave();
      if (!key) return;
      storage?.removeItem(key);
      storage?.removeItem(legacyDismissedKey());
    },
  };
}
