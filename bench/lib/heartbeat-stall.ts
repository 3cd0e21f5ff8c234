// One-off probe (not part of `npm run bench`): the event-loop stall of the jobtracker server's heartbeat
// rounds with N idle job streams open. The parent runs the server in-process with a short heartbeat and
// `monitorEventLoopDelay`; children hold the streams over raw sockets.
//   node --conditions=jobtracker-source --import tsx bench/lib/heartbeat-stall.ts [streams] [heartbeatMs] [windowMs]
// Prints the largest event-loop delay over a window of several heartbeat rounds, and the same window's p99.
import { fork } from 'node:child_process';
import { connect } from 'node:net';
import { monitorEventLoopDelay, PerformanceObserver, performance } from 'node:perf_hooks';
import { signToken, startServer } from '@jobtracker/server';

const SECRET = 'heartbeat-stall-secret-0123456789abcdef';
const TABS_PER_USER = 50;
const CHILDREN = 2;

async function client(): Promise<void> {
  const [port, first, count] = (process.env.STALL_CLIENT ?? '').split(',').map(Number) as [
    number,
    number,
    number,
  ];
  let ready = 0;
  const sockets = [];
  for (let i = first; i < first + count; i++) {
    const token = signToken({ sub: `user-${Math.floor(i / TABS_PER_USER)}`, expiresInSeconds: 3600 }, SECRET);
    const socket = connect(port, '127.0.0.1');
    socket.setEncoding('utf8');
    let seen = false;
    let tail = '';
    socket.on('data', (text: string) => {
      tail = (tail + text).slice(-200);
      if (!seen && tail.includes('event: ready')) {
        seen = true;
        ready++;
        if (ready === count) process.send?.({ ready });
      }
    });
    socket.on('error', (error) => console.error(`client: ${error.message}`));
    socket.write(`GET /api/jobs/stream HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${token}\r\n\r\n`);
    sockets.push(socket);
    if (i % 200 === 0) await new Promise((resolve) => setTimeout(resolve, 20));
  }
  process.on('message', () => process.exit(0));
}

async function server(): Promise<void> {
  const streams = Number(process.argv[2] ?? 5000);
  const heartbeatMs = Number(process.argv[3] ?? 3000);
  const windowMs = Number(process.argv[4] ?? heartbeatMs * 4);
  const running = await startServer({
    port: 0,
    db: ':memory:',
    secret: SECRET,
    heartbeatMs,
    logLevel: 'error',
  });
  const per = Math.ceil(streams / CHILDREN);
  const children = Array.from({ length: CHILDREN }, (_, index) =>
    fork(process.argv[1] as string, [], {
      env: {
        ...process.env,
        STALL_CLIENT: `${running.port},${index * per},${Math.min(per, streams - index * per)}`,
      },
      execArgv: process.execArgv,
    }),
  );
  // Until every stream is open, or their count stood still for 5 s (a few connects may fail under load).
  let open = -1;
  const count = () => running.tracker.engine.hub.subscriberCount();
  while (count() < streams && (count() === 0 || count() > open)) {
    open = count();
    await new Promise((resolve) => setTimeout(resolve, 5000));
  }
  // A full collection now, so that none is likely inside the window (it would stall the loop too).
  (globalThis as { gc?: () => void }).gc?.();
  console.log(`open: ${running.tracker.engine.hub.subscriberCount()} streams, heartbeat ${heartbeatMs} ms`);
  await new Promise((resolve) => setTimeout(resolve, Math.min(heartbeatMs, 3000)));
  const histogram = monitorEventLoopDelay({ resolution: 1 });
  const gcs: { start: number; end: number }[] = [];
  const observer = new PerformanceObserver((list) => {
    for (const entry of list.getEntries())
      gcs.push({ start: entry.startTime, end: entry.startTime + entry.duration });
  });
  observer.observe({ entryTypes: ['gc'] });
  // Gaps between 1 ms ticks: a gap that holds no garbage collection is the process's own work.
  const gaps: { start: number; end: number }[] = [];
  let last = performance.now();
  const tick = setInterval(() => {
    const at = performance.now();
    if (at - last > 5) gaps.push({ start: last, end: at });
    last = at;
  }, 1);
  histogram.enable();
  await new Promise((resolve) => setTimeout(resolve, windowMs));
  histogram.disable();
  clearInterval(tick);
  observer.disconnect();
  const ms = (ns: number) => (ns / 1e6).toFixed(1);
  const withoutGc = gaps.filter((gap) => !gcs.some((gc) => gc.end > gap.start && gc.start < gap.end));
  const longest = (list: { start: number; end: number }[]) =>
    Math.max(0, ...list.map((span) => span.end - span.start)).toFixed(1);
  console.log(
    `event-loop delay over ${windowMs} ms: max ${ms(histogram.max)} ms, p99 ${ms(histogram.percentile(99))} ms; ` +
      `longest gap without a GC ${longest(withoutGc)} ms; longest GC ${longest(gcs)} ms`,
  );
  for (const child of children) child.send('stop');
  await running.close();
  process.exit(0);
}

await (process.env.STALL_CLIENT ? client() : server());
