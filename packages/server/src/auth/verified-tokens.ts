import type { Caller } from './auth.js';

/**
 * The callers of tokens whose signature and claims were already checked, keyed by the whole token (a
 * changed byte is a miss). A client sends the same token with every poll and stream until it refreshes
 * it, so checking it once is enough. Bounded: the least recently used goes first. A token is never
 * answered from here at or after its expiry.
 */
export class VerifiedTokens {
  readonly #callers = new Map<string, Caller>();

  constructor(
    private readonly capacity: number,
    private readonly now: () => number,
  ) {}

  /** The caller of a verified token that has not expired, or undefined. */
  get(token: string): Caller | undefined {
    const caller = this.#callers.get(token);
    if (!caller) return undefined;
    this.#callers.delete(token);
    if (caller.expiresAt === null || caller.expiresAt <= this.now()) return undefined;
    this.#callers.set(token, caller);
    return caller;
  }

  remember(token: string, caller: Caller): void {
    this.#callers.delete(token);
    if (this.#callers.size >= this.capacity) {
      const oldest = this.#callers.keys().next();
      if (!oldest.done) this.#callers.delete(oldest.value);
    }
    this.#callers.set(token, caller);
  }

  get size(): number {
    return this.#callers.size;
  }
}
