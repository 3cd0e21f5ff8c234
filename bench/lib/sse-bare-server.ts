/**
 * The baseline for the SSE benchmarks: the least a correct server-sent-events server does, on bare
 * `node:http`, run as a child process (`node --expose-gc --import tsx sse-bare-server.ts`).
 *
 * - `GET /api/jobs/stream`: the same headers as jobtracker's stream (`text/event-stream`, `no-cache`,
 *   keep-alive, `X-Accel-Buffering: no`), a `retry:` line and a `ready` event, then the response stays
 *   open. The caller is the `sub` of the bearer token (read, not verified: the baseline does no auth).
 * - One shared heartbeat timer writes `: heartbeat` to every stream, every BARE_HEARTBEAT_MS (set to ours by the harness).
 * - `POST /publish/<owner>` with a worker's progress body `{ leaseToken, progress, message }`: parses it,
 *   serialises the job once (BARE_JOB_TEMPLATE with the new progress, message, version and updatedAt, so
 *   the frame has the size of ours), writes `id: <cursor>\nevent: job\ndata: <job JSON>\n\n` to each
 *   stream of that owner, and answers `{ job }` like the worker API does.
 * - `POST /publish-many` with `{ updates: [{ id: <owner>, leaseToken, progress, message }] }`: the same for
 *   each update, answered `{ results: [{ id, version }] }` like the worker API's batch progress.
 *
 * It prints `listening on http://127.0.0.1:<port>` and answers the probe's IPC calls (sse-probe.ts).
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import './sse-probe.js';

const HEARTBEAT_MS = Number(process.env.BARE_HEARTBEAT_MS ?? 15_000);
const RETRY_MS = Number(process.env.BARE_RETRY_MS ?? 3000);
const template: Record<string, unknown> = JSON.parse(process.env.BARE_JOB_TEMPLATE ?? '{}');

const byOwner = new Map<string, Set<http.ServerResponse>>();
const streams = new Set<http.ServerResponse>();
let cursor = Date.now() * 1000;
let version = typeof template.version === 'number' ? template.version : 0;
let heartbeat: NodeJS.Timeout | null = null;

function ownerOf(request: http.IncomingMessage): string | null {
  const token = /^Bearer\s+(\S+)\s*$/i.exec(request.headers.authorization ?? '')?.[1];
  const payload = token?.split('.')[1];
  if (!payload) return null;
  try {
    const sub = (JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as { sub?: unknown }).sub;
    return typeof sub === 'string' && sub !== '' ? sub : null;
  } catch {
    return null;
  }
}

function openStream(request: http.IncomingMessage, response: http.ServerResponse) {
  const owner = ownerOf(request);
  if (!owner) {
    response.writeHead(401).end();
    return;
  }
  response.writeHead(200, {
    'Content-Type': 'text/event-stream; charset=utf-8',
    'Cache-Control': 'no-cache, no-transform',
    'X-Accel-Buffering': 'no',
  });
  let set = byOwner.get(owner);
  if (!set) {
    set = new Set();
    byOwner.set(owner, set);
  }
  set.add(response);
  streams.add(response);
  heartbeat ??= setInterval(() => {
    for (const stream of streams) stream.write(': heartbeat\n\n');
  }, HEARTBEAT_MS);
  response.once('close', () => {
    streams.delete(response);
    set.delete(response);
    if (set.size === 0) byOwner.delete(owner);
  });
  response.write(`retry: ${RETRY_MS}\n\nid: ${cursor}\nevent: ready\ndata: {"cursor":"${cursor}"}\n\n`);
}

interface Update {
  progress?: unknown;
  message?: unknown;
}

/** Serialises the job once with the update and writes its frame to every stream of the owner. */
function fanOut(owner: string, update: Update): string {
  const data = JSON.stringify({
    ...template,
    progress: update.progress ?? null,
    message: update.message ?? null,
    version: ++version,
    updatedAt: new Date().toISOString(),
  });
  const frame = `id: ${++cursor}\nevent: job\ndata: ${data}\n\n`;
  for (const stream of byOwner.get(owner) ?? []) stream.write(frame);
  return data;
}

function readBody<T>(
  request: http.IncomingMessage,
  response: http.ServerResponse,
  then: (body: T) => string,
) {
  const chunks: Buffer[] = [];
  request.on('data', (chunk: Buffer) => chunks.push(chunk));
  request.on('end', () => {
    let body: T;
    try {
      body = JSON.parse(Buffer.concat(chunks).toString('utf8'));
    } catch {
      response.writeHead(400).end();
      return;
    }
    const answer = then(body);
    response
      .writeHead(200, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(answer) })
      .end(answer);
  });
}

/** `POST /publish/<owner>` with `{ leaseToken, progress, message }`: answers `{ job }`. */
function publish(owner: string, request: http.IncomingMessage, response: http.ServerResponse) {
  readBody<Update>(request, response, (update) => `{"job":${fanOut(owner, update)}}`);
}

/** `POST /publish-many` with `{ updates: [{ id: <owner>, progress, message }] }`: answers `{ results }`. */
function publishMany(request: http.IncomingMessage, response: http.ServerResponse) {
  readBody<{ updates: (Update & { id: string })[] }>(request, response, ({ updates }) => {
    const results = updates.map((update) => {
      fanOut(update.id, update);
      return { id: update.id, version };
    });
    return JSON.stringify({ results });
  });
}

const server = http.createServer((request, response) => {
  const url = request.url ?? '/';
  if (request.method === 'GET' && url.startsWith('/api/jobs/stream')) openStream(request, response);
  else if (request.method === 'POST' && url === '/publish-many') publishMany(request, response);
  else if (request.method === 'POST' && url.startsWith('/publish/'))
    publish(decodeURIComponent(url.slice('/publish/'.length)), request, response);
  else if (request.method === 'GET' && url === '/api/health') {
    response.writeHead(200, { 'Content-Type': 'application/json' }).end(`{"streams":${streams.size}}`);
  } else response.writeHead(404).end();
});

server.listen(0, '127.0.0.1', () => {
  console.log(`bare sse server listening on http://127.0.0.1:${(server.address() as AddressInfo).port}`);
});

process.on('SIGTERM', () => {
  if (heartbeat) clearInterval(heartbeat);
  for (const stream of streams) stream.destroy();
  server.close(() => process.exit(0));
});
