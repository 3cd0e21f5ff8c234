import { createServer, type RequestListener, type Server } from 'node:http';
import { connect } from 'node:net';
import { getRequestListener } from '@hono/node-server';
import { openTestTracker } from '@jobtracker/test-support/server';
import { withNodeAnswer } from '../app/node-answer.js';
import type { JobTrackerOptions } from '../app/tracker.js';
import { withNodeStreams } from '../stream/node-streams.js';

/** Sends `text` on a fresh connection and reads the whole answer (the requests ask to close). */
export function exchange(port: number, text: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    const chunks: Buffer[] = [];
    socket.on('data', (chunk) => chunks.push(chunk));
    socket.on('end', () => resolve(Buffer.concat(chunks).toString('latin1')));
    socket.on('error', reject);
    socket.write(text);
  });
}

/** A request's text, asking to close the connection; with a body, its Content-Length too. */
export function request(path: string, headers: Record<string, string>, method = 'GET', body?: string) {
  const all =
    body === undefined ? headers : { ...headers, 'Content-Length': String(Buffer.byteLength(body)) };
  const lines = Object.entries(all).map(([name, value]) => `${name}: ${value}\r\n`);
  return `${method} ${path} HTTP/1.1\r\nHost: localhost\r\n${lines.join('')}Connection: close\r\n\r\n${body ?? ''}`;
}

/** The answer without its Date line: the only line that may differ between two answers a moment apart. */
export const undated = (answer: string) => answer.replace(/\r\nDate: [^\r]*/i, '');
export const statusOf = (answer: string) => Number(answer.slice(9, 12));
export const etagOf = (answer: string) => /\r\netag: ([^\r]*)/i.exec(answer)?.[1] ?? '';

const listen = (listener: RequestListener) =>
  new Promise<Server>((resolve) => {
    const server = createServer(listener);
    server.listen(0, '127.0.0.1', () => resolve(server));
  });
const portOf = (server: Server) => (server.address() as { port: number }).port;

/**
 * One tracker served twice: `fast` puts its node answer in front of the app (as `startServer` does),
 * `plain` is the app alone; `answered` counts the requests the node answer took.
 */
export async function servedTwice(options: JobTrackerOptions = {}) {
  const tracker = await openTestTracker(options);
  const app = getRequestListener(withNodeStreams(tracker.app.fetch));
  let answered = 0;
  const fast = await listen(
    withNodeAnswer(async (req, res) => {
      const done = await tracker.nodeAnswer(req, res);
      if (done) answered++;
      return done;
    }, app),
  );
  const plain = await listen(app);
  return {
    tracker,
    get answered() {
      return answered;
    },
    /** The port of the server with the node answer in front. */
    get fastPort() {
      return portOf(fast);
    },
    /** The port of the app alone. */
    get plainPort() {
      return portOf(plain);
    },
    /** The same request to both: the fast server's answer, the plain one's, and whether the node answer took it. */
    async both(text: string) {
      const before = answered;
      const fastAnswer = await exchange(portOf(fast), text);
      const took = answered > before;
      const plainAnswer = await exchange(portOf(plain), text);
      return { fast: fastAnswer, plain: plainAnswer, took };
    },
    async close() {
      await new Promise((resolve) => fast.close(resolve));
      await new Promise((resolve) => plain.close(resolve));
      await tracker.close();
    },
  };
}

export type Served = Awaited<ReturnType<typeof servedTwice>>;
