// A loopback HTTP proxy in front of the example app that breaks its event stream the way some corporate
// proxies and CDNs do, and passes every other request through untouched.
import { createServer, request } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * What the proxy does to `GET /api/jobs/stream`: `pass` it through, `close` it right after the upstream
 * headers (every time), or `buffer` its body until the upstream ends (which an event stream never does).
 */
export type StreamFault = 'pass' | 'close' | 'buffer';

export interface StreamProxy {
  /** The proxy's origin, e.g. `http://127.0.0.1:41235`: open pages here instead of at the app. */
  readonly url: string;
  fault: StreamFault;
  close(): Promise<void>;
}

/** Starts a proxy on 127.0.0.1 that forwards every request to `target` (an origin). */
export async function startStreamProxy(target: string): Promise<StreamProxy> {
  const upstream = new URL(target);
  const server = createServer((req, res) => {
    const forward = request(
      new URL(req.url ?? '/', upstream),
      { method: req.method, headers: { ...req.headers, host: upstream.host } },
      (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        const fault =
          new URL(req.url ?? '/', upstream).pathname === '/api/jobs/stream' ? proxy.fault : 'pass';
        if (fault === 'close') {
          res.end();
          answer.destroy();
        } else if (fault === 'buffer') {
          res.flushHeaders();
          const held: Buffer[] = [];
          answer.on('data', (chunk: Buffer) => held.push(chunk));
          answer.on('end', () => res.end(Buffer.concat(held)));
        } else {
          answer.pipe(res);
        }
      },
    );
    forward.on('error', () => res.destroy());
    res.on('close', () => forward.destroy());
    req.pipe(forward);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const proxy: StreamProxy = {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    fault: 'pass',
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
  return proxy;
}
