import { createServer, type ServerOptions as HttpServerOptions, type RequestListener } from 'node:http';
import type { AddressInfo } from 'node:net';
import { serve } from '@hono/node-server';
import type { Hono } from 'hono';
import { withNodeStreams } from '../stream/node-streams.js';
import { withNodeAnswer } from './node-answer.js';
import { createJobTracker, type JobTracker, type JobTrackerOptions } from './tracker.js';

export interface ServerOptions extends JobTrackerOptions {
  /** 0 picks a free port. Default 8787. */
  port?: number;
  hostname?: string;
  /** Extra routes (e.g. example pages) mounted beside the API. */
  extend?: (app: Hono) => void;
}

export interface RunningServer {
  tracker: JobTracker;
  url: string;
  port: number;
  close(): Promise<void>;
}

/** How long an idle keep-alive connection stays open: longer than the SDK's idle polling period. */
export const KEEP_ALIVE_MS = 20_000;

/** Starts the job API on a real HTTP port. */
export async function startServer(options: ServerOptions = {}): Promise<RunningServer> {
  const tracker = await createJobTracker(options);
  options.extend?.(tracker.app);
  const hostname = options.hostname ?? '127.0.0.1';
  const server = await new Promise<ReturnType<typeof serve>>((resolve, reject) => {
    const started = serve(
      {
        fetch: withNodeStreams(tracker.app.fetch),
        port: options.port ?? 8787,
        hostname,
        // The adapter's listener, behind the answers given before Hono (an unchanged poll's 304).
        createServer: ((serverOptions: HttpServerOptions, listener: RequestListener) =>
          createServer(serverOptions, withNodeAnswer(tracker.nodeAnswer, listener))) as typeof createServer,
      },
      () => resolve(started),
    );
    started.once('error', reject);
  });
  // Node's 5 s default closes a polling client's connection between two idle polls (15 s apart), so
  // every idle poll paid a new TCP (and TLS) handshake.
  (server as { keepAliveTimeout?: number }).keepAliveTimeout = KEEP_ALIVE_MS;
  const { port } = server.address() as AddressInfo;
  const host = hostname.includes(':') ? `[${hostname}]` : hostname;
  return {
    tracker,
    port,
    url: `http://${host === '0.0.0.0' ? 'localhost' : host}:${port}`,
    async close() {
      tracker.streams.closeAll();
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        (server as unknown as { closeAllConnections?: () => void }).closeAllConnections?.();
      });
      await tracker.close();
    },
  };
}
