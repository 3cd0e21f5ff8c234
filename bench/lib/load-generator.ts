// Keep-alive HTTP load for the ingest and polling benchmarks, from a process of its own: `wrk` when it
// is installed (installed from Debian's packages when missing and we are root, like
// scripts/ensure-chromium.mjs installs chromium), else bench/lib/load-node-client.ts, a raw-socket
// Node client. BENCH_LOADGEN=node forces the Node client.
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export interface LoadRequest {
  method: 'GET' | 'POST';
  path: string;
  headers: Record<string, string>;
  body?: string;
}

/**
 * What to send. `fixed`: the same request every time. `progress`: `POST /api/worker/jobs/:id/progress`
 * round-robin over `jobs`, each with `progress` (constant: progress may not go down within an attempt,
 * and concurrent requests can overtake each other) and a new `message` ("step <n>"), so every update
 * is a visible change that the engine publishes and logs. `progress-batch`: `POST /api/worker/progress`
 * with `batch` updates a request, built the same way (the next `batch` jobs of the round-robin, each
 * with a new message); the answer's results are counted: `accepted` (a `version`) and `refused` (an
 * `error`).
 */
export type LoadSpec =
  | { kind: 'fixed'; request: LoadRequest }
  | {
      kind: 'progress';
      jobs: { id: string; leaseToken: string }[];
      authorization: string;
      progress: number;
    }
  | {
      kind: 'progress-batch';
      jobs: { id: string; leaseToken: string }[];
      authorization: string;
      progress: number;
      batch: number;
    };

export interface LoadOptions {
  /** http://127.0.0.1:port */
  url: string;
  spec: LoadSpec;
  connections: number;
  /** wrk threads; the Node client always runs one. */
  threads: number;
  seconds: number;
}

export interface LoadResult {
  tool: 'wrk' | 'node';
  seconds: number;
  /** Responses received. */
  responses: number;
  /** Responses with a 2xx or 3xx status (wrk cannot tell them apart; the Node client can). */
  ok: number;
  /** Responses with another status. */
  failed: number;
  /** Connect, read, write and timeout errors. */
  socketErrors: number;
  /** Response bytes received, headers included. */
  bytes: number;
  /**
   * Updates accepted and refused: for `progress-batch`, the results with a `version` and with an
   * `error` in the answers; otherwise `ok` and `failed`.
   */
  accepted: number;
  refused: number;
  /** CPU time the load generator used, in ms. */
  cpuMs: number;
}

/** Several runs' results as one: their counts and times added up. */
export function mergeLoadResults(results: readonly LoadResult[]): LoadResult {
  const sum = (pick: (result: LoadResult) => number) => results.reduce((total, r) => total + pick(r), 0);
  return {
    tool: results[0]?.tool ?? 'node',
    seconds: sum((r) => r.seconds),
    responses: sum((r) => r.responses),
    ok: sum((r) => r.ok),
    failed: sum((r) => r.failed),
    socketErrors: sum((r) => r.socketErrors),
    bytes: sum((r) => r.bytes),
    accepted: sum((r) => r.accepted),
    refused: sum((r) => r.refused),
    cpuMs: sum((r) => r.cpuMs),
  };
}

export type LoadTool = 'wrk' | 'node';

const hasWrk = () => spawnSync('wrk', ['-v'], { stdio: 'ignore' }).error === undefined;

const run = (command: string, args: string[]) => {
  console.log(`$ ${command} ${args.join(' ')}`);
  const result = spawnSync(command, args, {
    stdio: ['ignore', 'inherit', 'inherit'],
    env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
  });
  return result.status === 0;
};

let chosen: LoadTool | null = null;

/** `wrk` when present or installable (root + apt-get), else the Node client; BENCH_LOADGEN=node|wrk chooses. */
export function loadTool(): LoadTool {
  chosen ??= pickLoadTool();
  return chosen;
}

function pickLoadTool(): LoadTool {
  const wanted = process.env.BENCH_LOADGEN;
  if (wanted === 'node') return 'node';
  if (hasWrk()) return 'wrk';
  const canInstall =
    process.getuid?.() === 0 && spawnSync('apt-get', ['--version'], { stdio: 'ignore' }).status === 0;
  if (canInstall) {
    console.log("wrk is missing: installing Debian's wrk package for the load generator.");
    if (!run('apt-get', ['install', '-y', 'wrk'])) {
      console.log('apt-get install failed; refreshing the package lists and trying again.');
      if (run('apt-get', ['update'])) run('apt-get', ['install', '-y', 'wrk']);
    }
    if (hasWrk()) return 'wrk';
  }
  if (wanted === 'wrk')
    throw new Error('BENCH_LOADGEN=wrk but wrk is not installed (apt-get install -y wrk).');
  console.log('wrk is not available: using the Node keep-alive client (bench/lib/load-node-client.ts).');
  return 'node';
}

/** Runs the load for `seconds` from a separate process and reports what came back. */
export function runLoad(options: LoadOptions): Promise<LoadResult> {
  return loadTool() === 'wrk' ? runWrk(options) : runNode(options);
}

const lua = (value: string) => JSON.stringify(value); // a JSON string of ASCII is a valid Lua string

function wrkScript(spec: LoadSpec): string {
  // `threads` (filled by setup) lets done() read the batch result counts of each thread.
  const done = `
function done(summary, latency, requests)
  local e = summary.errors
  local accepted, refused = -1, -1
  if counting then
    accepted, refused = 0, 0
    for _, thread in ipairs(threads) do
      accepted = accepted + (thread:get("accepted") or 0)
      refused = refused + (thread:get("refused") or 0)
    end
  end
  io.write(string.format('WRK_RESULT {"duration":%d,"requests":%d,"bytes":%d,"connect":%d,"read":%d,"write":%d,"status":%d,"timeout":%d,"accepted":%d,"refused":%d}\\n',
    summary.duration, summary.requests, summary.bytes, e.connect, e.read, e.write, e.status, e.timeout, accepted, refused))
end
`;
  if (spec.kind === 'fixed') {
    const { request } = spec;
    const headers = Object.entries(request.headers)
      .map(([name, value]) => `wrk.headers[${lua(name)}] = ${lua(value)}`)
      .join('\n');
    const body = request.body === undefined ? '' : `wrk.body = ${lua(request.body)}`;
    return `wrk.method = ${lua(request.method)}\nwrk.path = ${lua(request.path)}\n${headers}\n${body}\n${done}`;
  }
  const batch = spec.kind === 'progress-batch';
  const jobs = spec.jobs
    .map((job) =>
      batch
        ? `{${lua(job.id)},${lua(job.leaseToken)}}`
        : `{${lua(`/api/worker/jobs/${job.id}/progress`)},${lua(job.leaseToken)}}`,
    )
    .join(',\n');
  // One update: the progress route's body, or one element of the batch route's `updates`.
  const request = batch
    ? `
function request()
  pick()
  local parts = {}
  for k = 1, ${spec.batch} do
    local job = mine[(counter % #mine) + 1]
    counter = counter + 1
    parts[k] = '{"id":"' .. job[1] .. '","leaseToken":"' .. job[2] .. '","progress":${spec.progress},"message":"step ' .. counter .. '"}'
  end
  return wrk.format(nil, "/api/worker/progress", nil, '{"updates":[' .. table.concat(parts, ',') .. ']}')
end
accepted = 0
refused = 0
function response(status, headers, body)
  if status == 200 then
    local _, yes = string.gsub(body, '"version":', '')
    local _, no = string.gsub(body, '"error":', '')
    accepted = accepted + yes
    refused = refused + no
  end
end`
    : `
function request()
  pick()
  local job = mine[(counter % #mine) + 1]
  counter = counter + 1
  return wrk.format(nil, job[1], nil, '{"leaseToken":"' .. job[2] .. '","progress":${spec.progress},"message":"step ' .. counter .. '"}')
end`;
  // Each thread takes the jobs j with (j - 1) % threads == tid, so one job's values rise in order.
  return `
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = ${lua(spec.authorization)}
counting = ${batch}
local jobs = {
${jobs}
}
local made = 0
threads = {}
function setup(thread)
  thread:set("tid", made)
  made = made + 1
  table.insert(threads, thread)
end
local counter = 0
local mine = nil
function pick()
  if mine == nil then
    mine = {}
    local n = 0
    for j = 1, #jobs do
      if (j - 1) % nthreads == tid then
        n = n + 1
        mine[n] = jobs[j]
      end
    end
  end
end
${request}
${done}`;
}

async function runWrk({ url, spec, connections, threads, seconds }: LoadOptions): Promise<LoadResult> {
  const dir = mkdtempSync(join(tmpdir(), 'jobtracker-wrk-'));
  try {
    const file = join(dir, 'load.lua');
    writeFileSync(
      file,
      spec.kind === 'fixed' ? wrkScript(spec) : `nthreads = ${threads}\n${wrkScript(spec)}`,
    );
    // bash's `times` prints the CPU time of the finished children (wrk) on its second line.
    const args = [
      '-c',
      'wrk "$@"; code=$?; times; exit $code',
      'wrk',
      '-t',
      String(threads),
      '-c',
      String(connections),
      '-d',
      `${Math.max(1, Math.round(seconds))}s`,
      '--timeout',
      '10s',
      '-s',
      file,
      url,
    ];
    const output = await new Promise<string>((resolve, reject) => {
      const child = spawn('bash', args, { stdio: ['ignore', 'pipe', 'pipe'] });
      let text = '';
      child.stdout.on('data', (chunk) => {
        text += chunk;
      });
      child.stderr.on('data', (chunk) => {
        text += chunk;
      });
      child.once('error', reject);
      child.once('exit', (code) =>
        code === 0 ? resolve(text) : reject(new Error(`wrk failed (${code}): ${text}`)),
      );
    });
    const json = /WRK_RESULT (\{.*\})/.exec(output)?.[1];
    if (!json) throw new Error(`wrk printed no result: ${output}`);
    const r = JSON.parse(json) as Record<string, number>;
    const times = output.trim().split('\n').slice(-1)[0] ?? '';
    const cpuMs = [...times.matchAll(/(\d+)m([\d.]+)s/g)].reduce(
      (sum, m) => sum + (Number(m[1]) * 60 + Number(m[2])) * 1000,
      0,
    );
    const responses = r.requests ?? 0;
    const failed = r.status ?? 0;
    const counted = (r.accepted ?? -1) >= 0;
    return {
      tool: 'wrk',
      seconds: (r.duration ?? 0) / 1e6,
      responses,
      ok: responses - failed,
      failed,
      socketErrors: (r.connect ?? 0) + (r.read ?? 0) + (r.write ?? 0) + (r.timeout ?? 0),
      bytes: r.bytes ?? 0,
      accepted: counted ? (r.accepted ?? 0) : responses - failed,
      refused: counted ? (r.refused ?? 0) : failed,
      cpuMs,
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const CLIENT = fileURLToPath(new URL('./load-node-client.ts', import.meta.url));

function runNode(options: LoadOptions): Promise<LoadResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', CLIENT], {
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    let result: LoadResult | null = null;
    const timer = setTimeout(() => child.kill('SIGKILL'), (options.seconds + 30) * 1000);
    child.on('message', (message: LoadResult | { error: string }) => {
      if ('error' in message) reject(new Error(`load client: ${message.error}`));
      else result = message;
    });
    child.once('error', reject);
    child.once('exit', (code) => {
      clearTimeout(timer);
      if (result) resolve(result);
      else reject(new Error(`load client exited with ${code} and no result`));
    });
    child.send(options);
  });
}

/** One keep-alive request on a fresh socket; the response exactly as it came on the wire (headers + body). */
export function rawExchange(
  url: string,
  request: LoadRequest,
): Promise<{ status: number; bytes: number; head: string; body: string }> {
  const { hostname, port, host } = new URL(url);
  const lines = [`${request.method} ${request.path} HTTP/1.1`, `Host: ${host}`];
  for (const [name, value] of Object.entries(request.headers)) lines.push(`${name}: ${value}`);
  if (request.body !== undefined) lines.push(`Content-Length: ${Buffer.byteLength(request.body)}`);
  return new Promise((resolve, reject) => {
    let all = Buffer.alloc(0);
    const socket = connect({ host: hostname, port: Number(port) }, () =>
      socket.write(`${lines.join('\r\n')}\r\n\r\n${request.body ?? ''}`),
    );
    socket.once('error', reject);
    socket.once('close', () => reject(new Error('the connection closed before a whole response came')));
    socket.on('data', (chunk: Buffer) => {
      all = Buffer.concat([all, chunk]);
      const split = all.indexOf('\r\n\r\n');
      if (split < 0) return;
      const head = all.subarray(0, split).toString('latin1');
      const status = Number(head.slice(9, 12));
      const length = /\r\ncontent-length:\s*(\d+)/i.exec(head);
      let end = split + 4;
      if (length) end += Number(length[1]);
      else if (/\r\ntransfer-encoding:\s*chunked/i.test(head)) {
        const last = all.indexOf('\r\n0\r\n\r\n', split);
        if (last < 0) return;
        end = last + 7;
      }
      if (all.length < end) return;
      socket.removeAllListeners('close');
      socket.destroy();
      resolve({ status, bytes: end, head, body: all.subarray(split + 4, end).toString('utf8') });
    });
  });
}
