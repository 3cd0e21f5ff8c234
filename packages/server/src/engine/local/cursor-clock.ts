/**
 * Local mode's cursors: time-based (microseconds) and strictly rising, so a restart after a crash never
 * reuses a cursor a client saw live. Cursors published before a crash but never committed lie between
 * the highest one the log held at start and the first one after it: a client holding one may have seen
 * versions the database lost, and must take a fresh snapshot.
 */
export class CursorClock {
  readonly #now: () => number;
  #last = 0;
  #loggedAtStart = 0;
  #startCursor = 0;

  constructor(now: () => number) {
    this.#now = now;
  }

  /** Starts above `highestLogged` (the log's highest cursor, kept or pruned); returns the start cursor. */
  start(highestLogged: number): number {
    this.#loggedAtStart = highestLogged;
    this.#last = Math.max(highestLogged, this.#now() * 1000);
    this.#startCursor = this.#last;
    return this.#last;
  }

  next(): number {
    this.#last = Math.max(this.#last + 1, this.#now() * 1000);
    return this.#last;
  }

  /** Whether `cursor` was published before the last start but never committed. */
  isLost(cursor: number): boolean {
    return cursor > this.#loggedAtStart && cursor < this.#startCursor;
  }
}
