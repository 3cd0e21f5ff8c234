import { connect, createServer, type Server, type Socket } from 'node:net';

/**
 * A TCP load balancer on loopback, as nginx with `proxy_next_upstream error` would behave: each new
 * connection goes to the first upstream that accepts it, in the order given, so when one instance dies
 * its clients reconnect to the next.
 */
export interface Balancer {
  /** `http://127.0.0.1:<port>`: point clients here. */
  url: string;
  /** The upstream port each connection went to, in order. */
  readonly routed: readonly number[];
  close(): Promise<void>;
}

export async function startBalancer(upstreamPorts: readonly number[]): Promise<Balancer> {
  const sockets = new Set<Socket>();
  const routed: number[] = [];
  const track = (socket: Socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
    socket.on('error', () => socket.destroy());
  };

  const server: Server = createServer((client) => {
    track(client);
    client.pause();
    const tryUpstream = (index: number) => {
      const port = upstreamPorts[index];
      if (port === undefined) {
        client.destroy();
        return;
      }
      const upstream = connect(port, '127.0.0.1');
      const refused = () => {
        upstream.destroy();
        tryUpstream(index + 1);
      };
      upstream.once('error', refused);
      upstream.once('connect', () => {
        upstream.off('error', refused);
        track(upstream);
        routed.push(port);
        client.pipe(upstream);
        upstream.pipe(client);
        client.resume();
        const end = () => {
          client.destroy();
          upstream.destroy();
        };
        client.once('close', end);
        upstream.once('close', end);
      });
    };
    tryUpstream(0);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('balancer has no port');
  return {
    url: `http://127.0.0.1:${address.port}`,
    routed,
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}
