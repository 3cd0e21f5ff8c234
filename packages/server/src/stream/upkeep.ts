/** What the upkeep needs of an open stream. */
export interface KeptStream {
  /** When a frame was last written to it (epoch ms); heartbeats do not count. */
  readonly lastFrameAt: number;
  /** When its caller's token expires (epoch ms), or null. */
  readonly expiresAt: number | null;
  heartbeat(): void;
  close(): void;
}

export interface UpkeepOptions {
  /** A round of heartbeats starts this often. */
  heartbeatMs: number;
  /** How often expired streams are looked for: a stream ends at most this long after its token expires. */
  expirySweepMs: number;
  /** The longest a heartbeat round runs before it lets other work in (setImmediate), in ms. */
  sliceMs?: number;
  now?: () => number;
}

/** Streams served by the first slice of a round, and the bounds of the adapted size. */
const FIRST_SLICE = 128;
const MIN_SLICE = 16;
const MAX_SLICE = 8192;

/**
 * The timers every open stream shares: heartbeat rounds and the token-expiry sweep. A round walks the
 * streams in slices of about `sliceMs`, with a `setImmediate` between slices, so one round of tens of
 * thousands of streams never holds the event loop for long. A slice's cost is mostly paid after it (node
 * writes a chunked response when it uncorks the socket, on the next tick), so the clock cannot end a
 * slice: its size is adapted to the time from one slice's start to the next's. A stream that got a frame in the last half
 * interval is skipped: no stream goes more than 1.5 × `heartbeatMs` without a byte. One sweep timer ends
 * the streams whose token expired, instead of a timer per stream.
 */
export class StreamUpkeep {
  readonly #streams: ReadonlySet<KeptStream>;
  readonly #options: Required<UpkeepOptions>;
  #heartbeat: NodeJS.Timeout | null = null;
  #sweep: NodeJS.Timeout | null = null;
  /** The streams the current round has yet to visit, or null between rounds. */
  #round: Iterator<KeptStream> | null = null;
  #roundStartedAt = 0;
  #slice: NodeJS.Immediate | null = null;
  #sliceSize = FIRST_SLICE;
  /** When the running slice started (performance.now()). */
  #sliceStartedAt = 0;

  constructor(streams: ReadonlySet<KeptStream>, options: UpkeepOptions) {
    this.#streams = streams;
    this.#options = { sliceMs: 5, now: Date.now, ...options };
  }

  /** Starts the timers, if they are not running: call when a stream opens. */
  start(): void {
    if (!this.#heartbeat) {
      this.#heartbeat = setInterval(() => this.#startRound(), this.#options.heartbeatMs);
      this.#heartbeat.unref();
    }
    if (!this.#sweep) {
      this.#sweep = setInterval(() => this.sweepExpired(), this.#options.expirySweepMs);
      this.#sweep.unref();
    }
  }

  stop(): void {
    if (this.#heartbeat) clearInterval(this.#heartbeat);
    if (this.#sweep) clearInterval(this.#sweep);
    if (this.#slice) clearImmediate(this.#slice);
    this.#heartbeat = null;
    this.#sweep = null;
    this.#slice = null;
    this.#round = null;
  }

  /** Ends every stream whose token has expired. */
  sweepExpired(): void {
    if (this.#streams.size === 0) {
      this.stop();
      return;
    }
    const now = this.#options.now();
    for (const stream of this.#streams) {
      if (stream.expiresAt !== null && stream.expiresAt <= now) stream.close();
    }
  }

  #startRound(): void {
    if (this.#streams.size === 0) {
      this.stop();
      return;
    }
    // A round that has not finished by the next one's start (an overloaded process) is simply continued.
    if (this.#round) return;
    this.#round = this.#streams.values();
    this.#roundStartedAt = this.#options.now();
    this.#sliceStartedAt = 0;
    this.#runSlice();
  }

  #runSlice(): void {
    this.#slice = null;
    const round = this.#round;
    if (!round) return;
    const { sliceMs, heartbeatMs } = this.#options;
    const startedAt = performance.now();
    if (this.#sliceStartedAt > 0) {
      // At most twice as many as the last: a slice of skipped streams says little of one that writes.
      const took = Math.max(startedAt - this.#sliceStartedAt, sliceMs / 2);
      this.#sliceSize = Math.round(
        Math.min(MAX_SLICE, Math.max(MIN_SLICE, (this.#sliceSize * sliceMs) / took)),
      );
    }
    this.#sliceStartedAt = startedAt;
    const quiet = this.#roundStartedAt - heartbeatMs / 2;
    for (let served = 0; served < this.#sliceSize; served++) {
      const next = round.next();
      if (next.done) {
        this.#round = null;
        return;
      }
      if (next.value.lastFrameAt <= quiet) next.value.heartbeat();
    }
    this.#slice = setImmediate(() => this.#runSlice());
  }
}
