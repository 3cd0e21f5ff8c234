/**
 * A cheap many-connection SSE client, run as a child process (`node --import tsx sse-load.ts`) and
 * driven over IPC (sse-rpc.ts). Each connection is a raw `net` socket that writes one HTTP/1.1 GET with
 * its own bearer token and then only splits the byte stream at blank lines (`\n\n`, which the chunked
 * framing never produces) to count frames: `ready`, `job`, heartbeats. No EventSource, no HTTP parser.
 *
 * When latency sampling is on, each `job` frame whose message is `t=<epoch ms>` yields
 * `receive time − t`, the receive time being `performance.timeOrigin + performance.now()` taken when the
 * chunk is parsed (the same clock as the sender's, across processes of one machine).
 */
import net from 'node:net';
import { performance } from 'node:perf_hooks';
import { signToken } from '@jobtracker/server';
import { emit, handle } from './sse-rpc.js';

export interface OpenArgs {
  port: number;
  path: string;
  users: string[];
  secret: string;
  /** Connections connecting or waiting for `ready` at once. */
  concurrency: number;
  /** Give up on a connection that has no `ready` after this long. */
  timeoutMs: number;
}

export interface OpenResult {
  ready: number;
  failed: number;
  errors: string[];
}

export interface LoadCounts {
  ready: number;
  failed: number;
  jobs: number;
  heartbeats: number;
  /** Streams that ended after `ready`. */
  closed: number;
  bytes: number;
  cpuUser: number;
  cpuSystem: number;
}

interface Connection {
  socket: net.Socket;
  /** The server port it is connected to (two servers can hold streams of one client process). */
  port: number;
  headers: boolean;
  ready: boolean;
  done: boolean;
  tail: string;
  settle: (ok: boolean, error?: string) => void;
}

const connections = new Set<Connection>();
const counts = { ready: 0, failed: 0, jobs: 0, heartbeats: 0, closed: 0, bytes: 0 };
let latencies: number[] | null = null;
let sampleFrame: string | null = null;
let sampleIsDelta = false;
let heartbeatArmed = false;
/** Heartbeats received, by server port. */
const heartbeatsByPort = new Map<number, number>();

const MESSAGE = '"message":"t=';

function onFrame(connection: Connection, text: string, start: number, end: number, now: () => number) {
  const at = text.indexOf('event: ', start);
  if (at === -1 || at > end) {
    if (text.indexOf(': heartbeat', start) !== -1 && text.indexOf(': heartbeat', start) < end) {
      counts.heartbeats++;
      heartbeatsByPort.set(connection.port, (heartbeatsByPort.get(connection.port) ?? 0) + 1);
      if (heartbeatArmed) {
        heartbeatArmed = false;
        emit('heartbeat', Date.now());
      }
    }
    return;
  }
  // A change: `job` (the whole job) or `progress` (a progress report's delta, which the bare relay's
  // frames are then sized after).
  const delta = text.startsWith('progress', at + 7);
  if (delta || text.startsWith('job', at + 7)) {
    counts.jobs++;
    if (sampleFrame === null || (delta && !sampleIsDelta)) {
      const data = text.indexOf('data: ', at);
      if (data !== -1 && data < end) {
        sampleFrame = text.slice(data + 6, end);
        sampleIsDelta = delta;
      }
    }
    if (latencies) {
      const m = text.indexOf(MESSAGE, at);
      if (m !== -1 && m < end) {
        const sent = Number(text.slice(m + MESSAGE.length, text.indexOf('"', m + MESSAGE.length)));
        if (Number.isFinite(sent)) latencies.push(now() - sent);
      }
    }
  } else if (text.startsWith('ready', at + 7) && !connection.ready) {
    connection.ready = true;
    counts.ready++;
    connection.settle(true);
  }
}

function open(args: OpenArgs, token: string): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host: '127.0.0.1', port: args.port });
    const connection: Connection = {
      socket,
      port: args.port,
      headers: false,
      ready: false,
      done: false,
      tail: '',
      settle: (ok, error) => {
        if (connection.done) return;
        connection.done = true;
        clearTimeout(timer);
        if (!ok) {
          counts.failed++;
          if (error && errors.length < 5) errors.push(error);
          socket.destroy();
          connections.delete(connection);
        }
        resolve(ok);
      },
    };
    const timer = setTimeout(() => connection.settle(false, 'no ready event in time'), args.timeoutMs);
    connections.add(connection);
    socket.setEncoding('latin1');
    socket.on('connect', () => {
      socket.write(
        `GET ${args.path} HTTP/1.1\r\nHost: 127.0.0.1:${args.port}\r\nAuthorization: Bearer ${token}\r\n` +
          'Accept: text/event-stream\r\nCache-Control: no-cache\r\n\r\n',
      );
    });
    socket.on('data', (chunk: string) => {
      counts.bytes += chunk.length;
      let text = connection.tail + chunk;
      if (!connection.headers) {
        const end = text.indexOf('\r\n\r\n');
        if (end === -1) {
          connection.tail = text;
          return;
        }
        if (!text.startsWith('HTTP/1.1 200')) {
          connection.settle(false, text.slice(0, text.indexOf('\r\n')));
          return;
        }
        connection.headers = true;
        text = text.slice(end + 4);
      }
      let time = 0;
      const now = () => {
        if (time === 0) time = performance.timeOrigin + performance.now();
        return time;
      };
      let start = 0;
      for (let end = text.indexOf('\n\n'); end !== -1; end = text.indexOf('\n\n', start)) {
        onFrame(connection, text, start, end, now);
        start = end + 2;
      }
      connection.tail = start === 0 ? text : text.slice(start);
    });
    socket.on('error', (error) => connection.settle(false, error.message));
    socket.on('close', () => {
      if (connection.ready && connections.has(connection)) counts.closed++;
      connections.delete(connection);
      connection.settle(false, 'closed before ready');
    });
  });
}

const errors: string[] = [];

handle('open', async (args: OpenArgs): Promise<OpenResult> => {
  const before = { ready: counts.ready, failed: counts.failed };
  errors.length = 0;
  let next = 0;
  const lane = async () => {
    while (next < args.users.length) {
      const user = args.users[next++] as string;
      await open(args, signToken({ sub: user, expiresInSeconds: 3600 }, args.secret));
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, args.concurrency) }, lane));
  return { ready: counts.ready - before.ready, failed: counts.failed - before.failed, errors: [...errors] };
});

handle('counts', (): LoadCounts => {
  const cpu = process.cpuUsage();
  return { ...counts, cpuUser: cpu.user, cpuSystem: cpu.system };
});

handle('armHeartbeat', () => {
  heartbeatArmed = true;
  return null;
});

handle('latencyStart', () => {
  latencies = [];
  return null;
});

handle('latencyStop', () => {
  const taken = Float64Array.from(latencies ?? []);
  latencies = null;
  return taken;
});

handle('sampleFrame', () => sampleFrame);

handle('heartbeatsOf', (args: { port: number }) => heartbeatsByPort.get(args.port) ?? 0);

handle('closePort', (args: { port: number }) => {
  for (const connection of connections) {
    if (connection.port !== args.port) continue;
    connection.socket.destroy();
    connections.delete(connection);
  }
  return null;
});

handle('closeAll', () => {
  for (const connection of connections) connection.socket.destroy();
  connections.clear();
  return null;
});

emit('up');
