// The Node fallback load generator (when wrk is missing): a child process that keeps `connections`
// raw keep-alive sockets busy, one request in flight on each, for `seconds`, and reports over IPC.
// Responses are parsed just enough to find where each ends (Content-Length, or a chunked body's end).
import { connect, type Socket } from 'node:net';
import type { LoadOptions, LoadResult } from './load-generator.js';

const HEADER_END = Buffer.from('\r\n\r\n');
const CHUNKED_END = Buffer.from('\r\n0\r\n\r\n');
const VERSION = Buffer.from('"version":');
const ERROR = Buffer.from('"error":');

/** How many times `needle` occurs in `haystack`. */
function occurrences(haystack: Buffer, needle: Buffer): number {
  let count = 0;
  for (let at = haystack.indexOf(needle); at >= 0; at = haystack.indexOf(needle, at + needle.length)) count++;
  return count;
}

function requestMaker(options: LoadOptions): () => Buffer {
  const { host } = new URL(options.url);
  const { spec } = options;
  if (spec.kind === 'fixed') {
    const { method, path, headers, body } = spec.request;
    const lines = [`${method} ${path} HTTP/1.1`, `Host: ${host}`];
    for (const [name, value] of Object.entries(headers)) lines.push(`${name}: ${value}`);
    if (body !== undefined) lines.push(`Content-Length: ${Buffer.byteLength(body)}`);
    const bytes = Buffer.from(`${lines.join('\r\n')}\r\n\r\n${body ?? ''}`);
    return () => bytes;
  }
  if (spec.kind === 'progress-batch') {
    const head = `POST /api/worker/progress HTTP/1.1\r\nHost: ${host}\r\nAuthorization: ${spec.authorization}\r\nContent-Type: application/json\r\n`;
    let counter = 0;
    return () => {
      const parts: string[] = [];
      for (let k = 0; k < spec.batch; k++) {
        const job = spec.jobs[counter % spec.jobs.length] as { id: string; leaseToken: string };
        counter++;
        parts.push(
          `{"id":"${job.id}","leaseToken":"${job.leaseToken}","progress":${spec.progress},"message":"step ${counter}"}`,
        );
      }
      const body = `{"updates":[${parts.join(',')}]}`;
      return Buffer.from(`${head}Content-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`);
    };
  }
  const heads = spec.jobs.map(
    (job) =>
      `POST /api/worker/jobs/${job.id}/progress HTTP/1.1\r\nHost: ${host}\r\nAuthorization: ${spec.authorization}\r\nContent-Type: application/json\r\n`,
  );
  let counter = 0;
  return () => {
    const index = counter % spec.jobs.length;
    counter++;
    const job = spec.jobs[index] as { leaseToken: string };
    const body = `{"leaseToken":"${job.leaseToken}","progress":${spec.progress},"message":"step ${counter}"}`;
    return Buffer.from(`${heads[index]}Content-Length: ${body.length}\r\n\r\n${body}`);
  };
}

async function main(options: LoadOptions): Promise<LoadResult> {
  const { hostname, port } = new URL(options.url);
  const next = requestMaker(options);
  const cpu = process.cpuUsage();
  const started = performance.now();
  const deadline = started + options.seconds * 1000;
  const result: LoadResult = {
    tool: 'node',
    seconds: 0,
    responses: 0,
    ok: 0,
    failed: 0,
    socketErrors: 0,
    bytes: 0,
    accepted: 0,
    refused: 0,
    cpuMs: 0,
  };
  const batch = options.spec.kind === 'progress-batch';

  const lane = () =>
    new Promise<void>((resolve) => {
      let pending: Buffer = Buffer.alloc(0);
      const socket: Socket = connect({ host: hostname, port: Number(port), noDelay: true });
      const send = () => {
        if (performance.now() >= deadline) {
          socket.end();
          resolve();
          return;
        }
        socket.write(next());
      };
      socket.on('connect', send);
      socket.on('data', (chunk: Buffer) => {
        pending = pending.length === 0 ? chunk : Buffer.concat([pending, chunk]);
        for (;;) {
          const headerEnd = pending.indexOf(HEADER_END);
          if (headerEnd < 0) return;
          const head = pending.subarray(0, headerEnd).toString('latin1');
          const status = Number(head.slice(9, 12));
          let end: number;
          const length = /\r\ncontent-length:\s*(\d+)/i.exec(head);
          if (status === 304 || status === 204) end = headerEnd + 4;
          else if (length) end = headerEnd + 4 + Number(length[1]);
          else if (/\r\ntransfer-encoding:\s*chunked/i.test(head)) {
            const chunkedEnd = pending.indexOf(CHUNKED_END, headerEnd);
            if (chunkedEnd < 0) return;
            end = chunkedEnd + CHUNKED_END.length;
          } else end = headerEnd + 4;
          if (pending.length < end) return;
          result.responses++;
          result.bytes += end;
          if (status >= 200 && status < 400) {
            result.ok++;
            if (!batch) result.accepted++;
            else if (status === 200) {
              const body = pending.subarray(headerEnd + 4, end);
              result.accepted += occurrences(body, VERSION);
              result.refused += occurrences(body, ERROR);
            }
          } else {
            if (!batch) result.refused++;
            result.failed++;
            if (process.env.BENCH_LOAD_DEBUG) console.error(pending.subarray(0, end).toString('utf8'));
          }
          pending = pending.subarray(end);
          send();
        }
      });
      socket.on('error', () => {
        result.socketErrors++;
        resolve();
      });
      socket.on('close', () => resolve());
    });

  await Promise.all(Array.from({ length: options.connections }, lane));
  result.seconds = (performance.now() - started) / 1000;
  const used = process.cpuUsage(cpu);
  result.cpuMs = (used.user + used.system) / 1000;
  return result;
}

process.once('message', (options: LoadOptions) => {
  main(options).then(
    (result) => {
      process.send?.(result, () => process.exit(0));
    },
    (error: unknown) => {
      process.send?.({ error: String(error) }, () => process.exit(1));
    },
  );
});
