import net from 'node:net';

/**
 * What one counting proxy saw, in application bytes (what passes through the TCP sockets: HTTP heads,
 * bodies and chunk framing; not TCP/IP or TLS overhead).
 */
export interface WireCounters {
  /** Client → server bytes. */
  up: number;
  /** Server → client bytes. */
  down: number;
  /** TCP connections accepted. */
  connections: number;
  /** HTTP request heads seen (client → server). */
  requests: number;
  /** HTTP response heads seen, and by status code. */
  responses: number;
  statuses: Record<string, number>;
  requestHeadBytes: number;
  responseHeadBytes: number;
  /** Response body bytes as sent (after removing chunk framing; still compressed when encoded). */
  responseBodyBytes: number;
  /** Chunks of chunked response bodies (one per write/flush of a streamed response), and their framing bytes. */
  chunks: number;
  chunkFramingBytes: number;
  /** Streams whose HTTP framing could not be followed (bytes are still counted). */
  framingErrors: number;
}

export const emptyCounters = (): WireCounters => ({
  up: 0,
  down: 0,
  connections: 0,
  requests: 0,
  responses: 0,
  statuses: {},
  requestHeadBytes: 0,
  responseHeadBytes: 0,
  responseBodyBytes: 0,
  chunks: 0,
  chunkFramingBytes: 0,
  framingErrors: 0,
});

/** `later - earlier`, field by field. */
export function diffCounters(later: WireCounters, earlier: WireCounters): WireCounters {
  const statuses: Record<string, number> = {};
  for (const [status, count] of Object.entries(later.statuses)) {
    const delta = count - (earlier.statuses[status] ?? 0);
    if (delta !== 0) statuses[status] = delta;
  }
  return {
    up: later.up - earlier.up,
    down: later.down - earlier.down,
    connections: later.connections - earlier.connections,
    requests: later.requests - earlier.requests,
    responses: later.responses - earlier.responses,
    statuses,
    requestHeadBytes: later.requestHeadBytes - earlier.requestHeadBytes,
    responseHeadBytes: later.responseHeadBytes - earlier.responseHeadBytes,
    responseBodyBytes: later.responseBodyBytes - earlier.responseBodyBytes,
    chunks: later.chunks - earlier.chunks,
    chunkFramingBytes: later.chunkFramingBytes - earlier.chunkFramingBytes,
    framingErrors: later.framingErrors - earlier.framingErrors,
  };
}

interface ParserEvents {
  head(text: string): void;
  body(bytes: number): void;
  chunk(): void;
  framing(bytes: number): void;
}

type Mode = 'head' | 'length' | 'chunk-size' | 'chunk-data' | 'chunk-crlf' | 'trailers' | 'until-close';

const EMPTY = Buffer.alloc(0);

const header = (head: string, name: string): string | undefined => {
  const match = new RegExp(`\\r\\n${name}:[ \\t]*([^\\r\\n]*)`, 'i').exec(head);
  return match?.[1]?.trim();
};

/**
 * A streaming HTTP/1.1 message framer for one direction of one connection: finds each head, then skips
 * the body by Content-Length or chunked framing. It only counts; it never changes a byte.
 */
class HttpFramer {
  #mode: Mode = 'head';
  #pending: Buffer = EMPTY;
  #remaining = 0;
  #broken = false;

  constructor(
    private readonly kind: 'request' | 'response',
    private readonly events: ParserEvents,
  ) {}

  /** Follows the framing; on nonsense, stops following it (counting goes on) and returns false. */
  push(data: Buffer): boolean {
    if (this.#broken) return true;
    try {
      this.#push(data);
      return true;
    } catch {
      this.#broken = true;
      return false;
    }
  }

  #push(data: Buffer) {
    let buf = this.#pending.length > 0 ? Buffer.concat([this.#pending, data]) : data;
    this.#pending = EMPTY;
    while (buf.length > 0) {
      switch (this.#mode) {
        case 'head': {
          const end = buf.indexOf('\r\n\r\n');
          if (end < 0) {
            this.#pending = buf;
            return;
          }
          const head = buf.subarray(0, end + 4).toString('latin1');
          buf = buf.subarray(end + 4);
          this.events.head(head);
          this.#afterHead(head);
          break;
        }
        case 'length': {
          const n = Math.min(this.#remaining, buf.length);
          this.events.body(n);
          this.#remaining -= n;
          buf = buf.subarray(n);
          if (this.#remaining === 0) this.#mode = 'head';
          break;
        }
        case 'chunk-size': {
          const end = buf.indexOf('\r\n');
          if (end < 0) {
            this.#pending = buf;
            return;
          }
          const size = Number.parseInt(buf.subarray(0, end).toString('latin1').split(';')[0] ?? '', 16);
          this.events.framing(end + 2);
          buf = buf.subarray(end + 2);
          if (!Number.isFinite(size)) throw new Error('wire-proxy: bad chunk size');
          if (size === 0) this.#mode = 'trailers';
          else {
            this.events.chunk();
            this.#remaining = size;
            this.#mode = 'chunk-data';
          }
          break;
        }
        case 'chunk-data': {
          const n = Math.min(this.#remaining, buf.length);
          this.events.body(n);
          this.#remaining -= n;
          buf = buf.subarray(n);
          if (this.#remaining === 0) {
            this.#remaining = 2;
            this.#mode = 'chunk-crlf';
          }
          break;
        }
        case 'chunk-crlf': {
          const n = Math.min(this.#remaining, buf.length);
          this.events.framing(n);
          this.#remaining -= n;
          buf = buf.subarray(n);
          if (this.#remaining === 0) this.#mode = 'chunk-size';
          break;
        }
        case 'trailers': {
          const end = buf.indexOf('\r\n');
          if (end < 0) {
            this.#pending = buf;
            return;
          }
          this.events.framing(end + 2);
          buf = buf.subarray(end + 2);
          if (end === 0) this.#mode = 'head';
          break;
        }
        case 'until-close':
          this.events.body(buf.length);
          buf = EMPTY;
          break;
      }
    }
  }

  #afterHead(head: string) {
    const chunked = /(^|,)\s*chunked\s*$/i.test(header(head, 'transfer-encoding') ?? '');
    const length = Number(header(head, 'content-length') ?? Number.NaN);
    if (this.kind === 'response') {
      const status = Number(/^HTTP\/1\.[01] (\d{3})/.exec(head)?.[1] ?? 0);
      if (status < 200 || status === 204 || status === 304) {
        this.#mode = 'head';
        return;
      }
      if (chunked) this.#mode = 'chunk-size';
      else if (Number.isFinite(length)) {
        this.#remaining = length;
        this.#mode = length > 0 ? 'length' : 'head';
      } else this.#mode = 'until-close';
      return;
    }
    if (chunked) this.#mode = 'chunk-size';
    else if (Number.isFinite(length) && length > 0) {
      this.#remaining = length;
      this.#mode = 'length';
    } else this.#mode = 'head';
  }
}

export interface WireProxy {
  /** `http://127.0.0.1:<port>`: point one client here. */
  url: string;
  port: number;
  /** A copy of the counters so far. */
  counters(): WireCounters;
  /** The latest request head seen, and the latest response head per status code (for header sizes). */
  lastRequestHead(): string | undefined;
  lastResponseHead(status: number): string | undefined;
  close(): Promise<void>;
}

/**
 * A counting TCP proxy on loopback in front of `target` (host:port): every byte in both directions is
 * counted and forwarded unchanged, and the HTTP/1.1 framing is followed to count requests, responses,
 * heads and chunks. Give each client its own proxy to attribute bytes to it.
 */
export async function startWireProxy(target: { host: string; port: number }): Promise<WireProxy> {
  const counters = emptyCounters();
  const sockets = new Set<net.Socket>();
  let requestHead: string | undefined;
  const responseHeads = new Map<number, string>();

  const server = net.createServer((client) => {
    counters.connections++;
    const upstream = net.connect(target.port, target.host);
    sockets.add(client);
    sockets.add(upstream);
    client.setNoDelay(true);
    upstream.setNoDelay(true);
    const requests = new HttpFramer('request', {
      head(text) {
        counters.requests++;
        counters.requestHeadBytes += text.length;
        requestHead = text;
      },
      body() {},
      chunk() {},
      framing() {},
    });
    const responses = new HttpFramer('response', {
      head(text) {
        const status = Number(/^HTTP\/1\.[01] (\d{3})/.exec(text)?.[1] ?? 0);
        counters.responses++;
        counters.responseHeadBytes += text.length;
        counters.statuses[status] = (counters.statuses[status] ?? 0) + 1;
        responseHeads.set(status, text);
      },
      body(bytes) {
        counters.responseBodyBytes += bytes;
      },
      chunk() {
        counters.chunks++;
      },
      framing(bytes) {
        counters.chunkFramingBytes += bytes;
      },
    });
    client.on('data', (data: Buffer) => {
      counters.up += data.length;
      if (!requests.push(data)) counters.framingErrors++;
    });
    upstream.on('data', (data: Buffer) => {
      counters.down += data.length;
      if (!responses.push(data)) counters.framingErrors++;
    });
    client.pipe(upstream);
    upstream.pipe(client);
    const close = () => {
      client.destroy();
      upstream.destroy();
      sockets.delete(client);
      sockets.delete(upstream);
    };
    client.on('error', close);
    upstream.on('error', close);
    client.on('close', close);
    upstream.on('close', close);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as net.AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    counters: () => ({ ...counters, statuses: { ...counters.statuses } }),
    lastRequestHead: () => requestHead,
    lastResponseHead: (status) => responseHeads.get(status),
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        sockets.clear();
        server.close(() => resolve());
      }),
  };
}

/** The value of one header in a raw HTTP head, if present. */
export const headerOf = header;
