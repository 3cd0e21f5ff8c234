// Where the engine's two modes may differ, each within what it promises, and what the model allows for.

/**
 * Which order the events of calls made at once must come in: the order the model explains the calls
 * in (one process decides and publishes under one lock), or only each job's own order (shared mode:
 * two calls on different jobs commit, so take their cursors, in whichever order their transactions
 * end, e.g. two claims at once, each skipping the row the other has locked).
 */
export type EventOrder = 'total' | 'per-job';

export interface ModeRules {
  eventOrder: EventOrder;
  /**
   * Whether a claim skips a pending job whose row a call made at the same time holds locked (shared
   * mode's `FOR UPDATE SKIP LOCKED`), answering the next pending job or none, even when that call then
   * leaves the job pending (a refused complete, say).
   */
  claimSkipsLockedRows: boolean;
}

/** One process owns the database (SQLite). */
export const LOCAL_MODE: ModeRules = {
  eventOrder: 'total',
  claimSkipsLockedRows: false,
};

/** Several processes share a PostgreSQL database. */
export const SHARED_MODE: ModeRules = {
  eventOrder: 'per-job',
  claimSkipsLockedRows: true,
};
