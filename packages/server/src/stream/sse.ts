import type { ServerResponse } from 'node:http';
import type { Caller } from '../auth/auth.js';
import type { JobEngine } from '../engine/engine.js';
import { eventFrame, HEARTBEAT_FRAME, preambleFrame, readyFrame, snapshotFrame } from './frames.js';
import type { LiveEvent } from './hub.js';
import { type KeptStream, StreamUpkeep } from './upkeep.js';

export interface StreamOptions {
  /** A comment line is sent this often so proxies and the client's watchdog see a live connection. */
  heartbeatMs: number;
  /** The reconnection delay suggested to clients (`retry:`). */
  retryMs: number;
  /** A client this far behind (bytes queued) is dropped; it resumes from its cursor when it returns. */
  maxQueuedBytes: number;
  /** How often streams whose token expired are looked for and ended. Default 250 ms. */
  expirySweepMs?: number;
  onError: (error: unknown) => void;
}

const DEFAULT_EXPIRY_SWEEP_MS = 250;

/** How long a stream's first bytes may wait for its catch-up, to leave with it in one write. */
const FIRST_BYTES_WAIT_MS = 50;

export const STREAM_HEADERS = {
  'Content-Type': 'text/event-stream; charset=utf-8',
  'Cache-Control': 'no-cache, no-transform',
  'X-Accel-Buffering': 'no',
};

const STREAM_HEAD = Object.entries(STREAM_HEADERS).map(
  ([name, value]) => [name.toLowerCase(), value] as const,
);

/**
 * The stream's head with `headers` (e.g. CORS) added, as a web `Headers` would list the two together:
 * lower-case names, sorted, a later value replacing an earlier one; no `content-length`.
 */
function streamHead(headers: Iterable<readonly [string, string]>): string[] {
  const merged = new Map<string, string>(STREAM_HEAD);
  for (const [name, value] of headers) {
    const lower = name.toLowerCase();
    if (lower !== 'content-length') merged.set(lower, value);
  }
  const head: string[] = [];
  for (const name of [...merged.keys()].sort()) head.push(name, merged.get(name) as string);
  return head;
}

/**
 * Streams waiting for node's response: the route leaves an opener here (keyed by the request), and
 * `withNodeStreams` calls it with the response once the app (and its middleware, e.g. CORS) has answered.
 */
export type NodeStreamOpeners = WeakMap<Request, (response: ServerResponse, headers: Headers) => void>;

/** The key under which `withNodeStreams` puts its `NodeStreamOpeners` into the app's env. */
export const NODE_STREAMS = Symbol.for('jobtracker.nodeStreams');

/** Where a stream's frames go: a web ReadableStream, or straight into node's response (the hot path). */
interface StreamSink {
  /** Queues the bytes (shared with other streams: never changed); false when the client is gone or too far behind. */
  write(bytes: Uint8Array): boolean;
  end(): void;
}

class StreamConnection implements KeptStream {
  #sink: StreamSink | null = null;
  #buffered: LiveEvent[] | null = [];
  #last = 0;
  #closed = false;
  #cleanup: (() => void)[] = [];
  lastFrameAt: number;

  constructor(
    private readonly streams: StreamRegistry,
    readonly expiresAt: number | null,
  ) {
    this.lastFrameAt = Date.now();
  }

  attach(sink: StreamSink) {
    this.#sink = sink;
  }

  onClose(cleanup: () => void) {
    if (this.#closed) cleanup();
    else this.#cleanup.push(cleanup);
  }

  get closed() {
    return this.#closed;
  }

  write(bytes: Uint8Array) {
    this.lastFrameAt = Date.now();
    this.#send(bytes);
  }

  heartbeat() {
    this.#send(HEARTBEAT_FRAME);
  }

  #send(bytes: Uint8Array) {
    if (this.#closed || !this.#sink) return;
    if (!this.#sink.write(bytes)) this.close();
  }

  live(event: LiveEvent) {
    if (this.#buffered) {
      this.#buffered.push(event);
      return;
    }
    if (event.cursor <= this.#last) return;
    this.#last = event.cursor;
    this.write(eventFrame(event));
  }

  /**
   * Ends the catch-up phase with `ready` (the client is now current at `cursor`); events that arrived
   * meanwhile go out unless the catch-up covered them.
   */
  goLive(cursor: number) {
    this.#last = Math.max(this.#last, cursor);
    this.write(readyFrame(this.#last));
    const buffered = this.#buffered ?? [];
    this.#buffered = null;
    for (const event of buffered) this.live(event);
  }

  close() {
    if (this.#closed) return;
    this.#closed = true;
    this.streams.connections.delete(this);
    for (const cleanup of this.#cleanup.splice(0)) cleanup();
    this.#sink?.end();
  }
}

/** The open job streams of one app, and the heartbeat and expiry sweep they share. */
export class StreamRegistry {
  readonly connections = new Set<StreamConnection>();
  readonly #upkeep: StreamUpkeep;
  readonly #preamble: Uint8Array;

  constructor(
    private readonly engine: JobEngine,
    private readonly options: StreamOptions,
  ) {
    this.#upkeep = new StreamUpkeep(this.connections, {
      heartbeatMs: options.heartbeatMs,
      expirySweepMs: options.expirySweepMs ?? DEFAULT_EXPIRY_SWEEP_MS,
    });
    this.#preamble = preambleFrame(options.retryMs);
  }

  /**
   * Opens `GET /jobs/stream` for a caller as a web `Response`: a snapshot when `since` is undefined, else
   * a replay of what they missed (or `reset` + snapshot when the cursor is too old), then every change live.
   */
  open(caller: Caller, since: number | undefined, signal: AbortSignal): Response {
    const connection = new StreamConnection(this, caller.expiresAt);
    const { maxQueuedBytes } = this.options;
    const stream = new ReadableStream<Uint8Array>(
      {
        start: (controller) => {
          connection.attach({
            write(bytes) {
              try {
                controller.enqueue(bytes);
              } catch {
                return false;
              }
              return (controller.desiredSize ?? 0) >= -maxQueuedBytes;
            },
            end() {
              try {
                controller.close();
              } catch {
                // already closed by the client
              }
            },
          });
          const onAbort = () => connection.close();
          signal.addEventListener('abort', onAbort, { once: true });
          connection.onClose(() => signal.removeEventListener('abort', onAbort));
          this.#start(connection, caller, since);
          if (signal.aborted) connection.close();
        },
        cancel: () => connection.close(),
      },
      new ByteLengthQueuingStrategy({ highWaterMark: 16 * 1024 }),
    );
    return new Response(stream, { headers: STREAM_HEADERS });
  }

  /**
   * The same stream written straight into node's `ServerResponse`, with `headers` (e.g. CORS) added. A
   * web stream per connection costs several times the memory and CPU of the response it feeds; this
   * path is what lets one process hold tens of thousands of streams.
   */
  openNode(
    caller: Caller,
    since: number | undefined,
    response: ServerResponse,
    headers: Iterable<readonly [string, string]>,
  ): void {
    const connection = new StreamConnection(this, caller.expiresAt);
    const { maxQueuedBytes } = this.options;
    response.writeHead(200, streamHead(headers));
    connection.attach({
      write(bytes) {
        if (response.destroyed || response.writableEnded) return false;
        response.write(bytes);
        return response.writableLength <= maxQueuedBytes;
      },
      end() {
        if (!response.writableEnded) response.end();
      },
    });
    const onClose = () => connection.close();
    response.once('close', onClose);
    connection.onClose(() => response.off('close', onClose));
    // The head, the preamble and a quick catch-up leave in one write: a syscall (and a wake-up of the
    // client) per stream instead of two. A slow one does not hold the first bytes back: they tell the
    // client that no proxy buffers the stream.
    response.cork();
    let corked = true;
    const uncork = () => {
      if (!corked) return;
      corked = false;
      clearTimeout(timer);
      response.uncork();
    };
    const timer = setTimeout(uncork, FIRST_BYTES_WAIT_MS);
    this.#start(connection, caller, since).then(uncork);
  }

  /** Starts a stream: live events held back, the preamble, then the catch-up (settled once it is sent). */
  #start(connection: StreamConnection, caller: Caller, since: number | undefined): Promise<void> {
    const { engine, options } = this;
    this.connections.add(connection);
    this.#upkeep.start();
    connection.onClose(engine.hub.subscribe(caller.ownerId, (event) => connection.live(event)));
    connection.write(this.#preamble);
    return this.#catchUp(connection, caller.ownerId, since).catch((error) => {
      options.onError(error);
      connection.close();
    });
  }

  async #catchUp(connection: StreamConnection, ownerId: string, since: number | undefined) {
    if (since !== undefined) {
      const changes = await this.engine.changesSince(ownerId, since);
      if (!changes.reset) {
        for (const event of changes.events) connection.write(eventFrame(event));
        connection.goLive(Math.max(since, changes.cursor));
        return;
      }
    }
    const snapshot = await this.engine.snapshot(ownerId);
    connection.write(snapshotFrame(since === undefined ? 'snapshot' : 'reset', snapshot));
    connection.goLive(snapshot.cursor);
  }

  /** Closes every stream, e.g. on shutdown. */
  closeAll() {
    for (const connection of [...this.connections]) connection.close();
    this.stop();
  }

  stop() {
    this.#upkeep.stop();
  }
}
