import type { ServerResponse } from 'node:http';
import type { StreamEventName, StreamSnapshot } from '@jobtracker/sdk/wire';
import type { Caller } from '../auth/auth.js';
import type { JobEngine, Snapshot } from '../engine/engine.js';
import type { LiveEvent } from './hub.js';
import { setLongTimeout } from './long-timeout.js';

export interface StreamOptions {
  /** A comment line is sent this often so proxies and the client's watchdog see a live connection. */
  heartbeatMs: number;
  /** The reconnection delay suggested to clients (`retry:`). */
  retryMs: number;
  /** A client this far behind (bytes queued) is dropped; it resumes from its cursor when it returns. */
  maxQueuedBytes: number;
  onError: (error: unknown) => void;
}

const encoder = new TextEncoder();

export const STREAM_HEADERS = {
  'Content-Type': 'text/event-stream; charset=utf-8',
  'Cache-Control': 'no-cache, no-transform',
  'X-Accel-Buffering': 'no',
};

/**
 * Streams waiting for node's response: the route leaves an opener here (keyed by the request), and
 * `withNodeStreams` calls it with the response once the app (and its middleware, e.g. CORS) has answered.
 */
export type NodeStreamOpeners = WeakMap<Request, (response: ServerResponse, headers: Headers) => void>;

/** The key under which `withNodeStreams` puts its `NodeStreamOpeners` into the app's env. */
export const NODE_STREAMS = Symbol.for('jobtracker.nodeStreams');

/** Where a stream's frames go: a web ReadableStream, or straight into node's response (the hot path). */
interface StreamSink {
  /** Queues the text; false when the client is gone or too far behind to keep. */
  write(text: string): boolean;
  end(): void;
}

const LINE_SEPARATOR = /[\u0085\u2028\u2029]/;
const LINE_SEPARATORS = /[\u0085\u2028\u2029]/g;

/**
 * JSON text with U+0085, U+2028 and U+2029 written as `\u` escapes. They are valid raw in JSON strings
 * and in SSE, but clients that split a stream into lines with the Unicode rules (Python's `splitlines`)
 * would cut an event there. In JSON they can only stand inside strings, where the escape means the same.
 */
export function escapeLineSeparators(json: string): string {
  if (!LINE_SEPARATOR.test(json)) return json;
  return json.replace(LINE_SEPARATORS, (char) => `\\u${char.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/** One SSE event: `json` is the data, already JSON text. */
const frame = (name: StreamEventName, cursor: number, json: string) =>
  `id: ${cursor}\nevent: ${name}\ndata: ${escapeLineSeparators(json)}\n\n`;

export const jobFrame = (event: LiveEvent) => frame('job', event.cursor, event.data);

function snapshotFrame(name: 'snapshot' | 'reset', snapshot: Snapshot) {
  const body: StreamSnapshot = { jobs: snapshot.jobs, cursor: String(snapshot.cursor) };
  return frame(name, snapshot.cursor, JSON.stringify(body));
}

class StreamConnection {
  #sink: StreamSink | null = null;
  #buffered: LiveEvent[] | null = [];
  #last = 0;
  #closed = false;
  #cleanup: (() => void)[] = [];

  constructor(private readonly streams: StreamRegistry) {}

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

  write(text: string) {
    if (this.#closed || !this.#sink) return;
    if (!this.#sink.write(text)) this.close();
  }

  live(event: LiveEvent) {
    if (this.#buffered) {
      this.#buffered.push(event);
      return;
    }
    if (event.cursor <= this.#last) return;
    this.#last = event.cursor;
    this.write(jobFrame(event));
  }

  /**
   * Ends the catch-up phase with `ready` (the client is now current at `cursor`); events that arrived
   * meanwhile go out unless the catch-up covered them.
   */
  goLive(cursor: number) {
    this.#last = Math.max(this.#last, cursor);
    this.write(frame('ready', this.#last, `{"cursor":"${this.#last}"}`));
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

/** The open job streams of one app, and the heartbeat they share. */
export class StreamRegistry {
  readonly connections = new Set<StreamConnection>();
  #heartbeat: NodeJS.Timeout | null = null;

  constructor(
    private readonly engine: JobEngine,
    private readonly options: StreamOptions,
  ) {}

  /**
   * Opens `GET /jobs/stream` for a caller as a web `Response`: a snapshot when `since` is undefined, else
   * a replay of what they missed (or `reset` + snapshot when the cursor is too old), then every change live.
   */
  open(caller: Caller, since: number | undefined, signal: AbortSignal): Response {
    const connection = new StreamConnection(this);
    const { maxQueuedBytes } = this.options;
    const stream = new ReadableStream<Uint8Array>(
      {
        start: (controller) => {
          connection.attach({
            write(text) {
              try {
                controller.enqueue(encoder.encode(text));
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
  openNode(caller: Caller, since: number | undefined, response: ServerResponse, headers: Headers): void {
    const connection = new StreamConnection(this);
    const { maxQueuedBytes } = this.options;
    const head = new Headers(STREAM_HEADERS);
    for (const [name, value] of headers) if (name !== 'content-length') head.set(name, value);
    response.writeHead(200, Object.fromEntries(head));
    connection.attach({
      write(text) {
        if (response.destroyed || response.writableEnded) return false;
        response.write(text);
        return response.writableLength <= maxQueuedBytes;
      },
      end() {
        if (!response.writableEnded) response.end();
      },
    });
    const onClose = () => connection.close();
    response.once('close', onClose);
    connection.onClose(() => response.off('close', onClose));
    this.#start(connection, caller, since);
  }

  #start(connection: StreamConnection, caller: Caller, since: number | undefined) {
    const { engine, options } = this;
    this.connections.add(connection);
    this.#startHeartbeat();
    connection.onClose(engine.hub.subscribe(caller.ownerId, (event) => connection.live(event)));
    if (caller.expiresAt !== null) {
      connection.onClose(setLongTimeout(() => connection.close(), caller.expiresAt - Date.now()));
    }
    connection.write(`retry: ${options.retryMs}\n: jobtracker stream\n\n`);
    this.#catchUp(connection, caller.ownerId, since).catch((error) => {
      options.onError(error);
      connection.close();
    });
  }

  async #catchUp(connection: StreamConnection, ownerId: string, since: number | undefined) {
    if (since !== undefined) {
      const changes = await this.engine.changesSince(ownerId, since);
      if (!changes.reset) {
        for (const event of changes.events) connection.write(jobFrame(event));
        connection.goLive(Math.max(since, changes.cursor));
        return;
      }
    }
    const snapshot = await this.engine.snapshot(ownerId);
    connection.write(snapshotFrame(since === undefined ? 'snapshot' : 'reset', snapshot));
    connection.goLive(snapshot.cursor);
  }

  #startHeartbeat() {
    if (this.#heartbeat) return;
    this.#heartbeat = setInterval(() => {
      if (this.connections.size === 0) {
        this.stop();
        return;
      }
      for (const connection of this.connections) connection.write(': heartbeat\n\n');
    }, this.options.heartbeatMs);
    this.#heartbeat.unref();
  }

  /** Closes every stream, e.g. on shutdown. */
  closeAll() {
    for (const connection of [...this.connections]) connection.close();
    this.stop();
  }

  stop() {
    if (this.#heartbeat) clearInterval(this.#heartbeat);
    this.#heartbeat = null;
  }
}
