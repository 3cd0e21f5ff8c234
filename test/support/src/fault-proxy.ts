import { connect, createServer, type Server, type Socket } from 'node:net';

/** A TCP proxy on loopback between clients and a server, that can break the connections it carries. */
export interface FaultProxy {
  /** `http://127.0.0.1:<port>`: point clients here. */
  url: string;
  /** Connections opened through the proxy so far. */
  readonly opened: number;
  /** Resets (RST) every open connection, both sides. New connections pass. */
  reset(): void;
  /**
   * Silently drops every byte of the connections open now, in both directions, and keeps their sockets
   * open: a half-open link, as after a NAT or Wi-Fi drop. New connections pass.
   */
  blackhole(): void;
  /** Resets every open connection and every new one until `up()`: the server is gone for a while. */
  down(): void;
  up(): void;
  close(): Promise<void>;
}

export async function startFaultProxy(target: { host: string; port: number }): Promise<FaultProxy> {
  const pairs = new Set<{ client: Socket; upstream: Socket; dropped: boolean }>();
  let opened = 0;
  let refusing = false;
  const server: Server = createServer((client) => {
    if (refusing) {
      client.resetAndDestroy();
      return;
    }
    opened++;
    const upstream = connect(target.port, target.host);
    const pair = { client, upstream, dropped: false };
    pairs.add(pair);
    const forward = (from: Socket, to: Socket) =>
      from.on('data', (chunk) => {
        if (!pair.dropped) to.write(chunk);
      });
    forward(client, upstream);
    forward(upstream, client);
    const end = () => {
      pairs.delete(pair);
      client.destroy();
      upstream.destroy();
    };
    for (const socket of [client, upstream]) {
      socket.on('error', end);
      socket.on('close', end);
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  if (!address || typeof address === 'string') throw new Error('the proxy has no port');
  function reset() {
    for (const { client, upstream } of [...pairs]) {
      client.resetAndDestroy();
      upstream.resetAndDestroy();
    }
  }
  return {
    url: `http://127.0.0.1:${address.port}`,
    get opened() {
      return opened;
    },
    reset,
    down() {
      refusing = true;
      reset();
    },
    up() {
      refusing = false;
    },
    blackhole() {
      for (const pair of pairs) pair.dropped = true;
    },
    close() {
      for (const { client, upstream } of [...pairs]) {
        client.destroy();
        upstream.destroy();
      }
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}
