import type { WorkerCancelEvent, WorkerStreamEventName } from '@jobtracker/sdk/wire';
import type { JobEngine } from '../engine/engine.js';
import { STREAM_HEADERS } from '../stream/sse.js';

export interface CancelStreamOptions {
  /** A comment line is sent this often so proxies and the host see a live connection. */
  heartbeatMs: number;
  /** The reconnection delay suggested to the host (`retry:`). */
  retryMs: number;
  /**
   * The log is read again this often even when no cancel was seen here: a backstop, since every cancel
   * this process learns of (its own, and other instances' through the change feed) wakes the stream at once.
   */
  pollMs?: number;
}

/** Cancels read from the log at once; more are read in further pages. */
const PAGE = 500;
const DEFAULT_POLL_MS = 5000;

const encoder = new TextEncoder();
const frame = (name: WorkerStreamEventName, cursor: number, data: unknown) =>
  encoder.encode(`id: ${cursor}\nevent: ${name}\ndata: ${JSON.stringify(data)}\n\n`);

/**
 * `GET /api/worker/events`: the cancels of reported jobs, for the hosts that report them, as SSE. From a
 * cursor (`Last-Event-ID` or `since`) it replays the cancels after it, then `ready`, then goes live;
 * without one it starts live at the log's end. A cursor older than the log keeps, or ahead of it (another
 * server's), answers `reset` first: cancels before it may have been missed. The cancels come from the
 * event log, where a cancel is committed before anyone hears of it, so a cursor the stream sent is never
 * passed by a cancel committed later.
 */
export function openCancelStream(
  engine: JobEngine,
  since: number | undefined,
  signal: AbortSignal,
  options: CancelStreamOptions,
): Response {
  let closed = false;
  let last = 0;
  let reading: Promise<void> | null = null;
  let again = false;
  /** Wakes wait until the catch-up has set where reading starts. */
  let started = false;
  const cleanup: (() => void)[] = [];

  const stream = new ReadableStream<Uint8Array>({
    start(controller) {
      const write = (bytes: Uint8Array) => {
        if (closed) return;
        try {
          controller.enqueue(bytes);
        } catch {
          close();
        }
      };
      const close = () => {
        if (closed) return;
        closed = true;
        for (const stop of cleanup.splice(0)) stop();
        try {
          controller.close();
        } catch {
          // already closed by the client
        }
      };
      const fail = (error: unknown) => {
        controller.error(error);
        closed = true;
        for (const stop of cleanup.splice(0)) stop();
      };
      /** Sends every cancel after `last`; one read at a time, and once more when woken meanwhile. */
      const readLog = (): Promise<void> => {
        if (reading) {
          again = true;
          return reading;
        }
        reading = (async () => {
          do {
            again = false;
            for (;;) {
              const page = await engine.store.reportedCancelsAfter(last, PAGE);
              for (const cancel of page) {
                const data: WorkerCancelEvent = {
                  id: cancel.id,
                  externalId: cancel.externalId,
                  owner: cancel.ownerId,
                };
                write(frame('cancel', cancel.cursor, data));
                last = Math.max(last, cancel.cursor);
              }
              if (page.length < PAGE || closed) break;
            }
          } while (again && !closed);
        })().finally(() => {
          reading = null;
        });
        return reading;
      };
      const wake = () => {
        if (started && !closed) readLog().catch(fail);
      };

      signal.addEventListener('abort', close, { once: true });
      cleanup.push(() => signal.removeEventListener('abort', close));
      // Listening starts before the catch-up: a cancel committed meanwhile is read by one or the other.
      cleanup.push(
        engine.onChange((change) => {
          if (change.status === 'cancelled') wake();
        }),
      );
      const heartbeat = setInterval(() => write(encoder.encode(': heartbeat\n\n')), options.heartbeatMs);
      const poll = setInterval(wake, options.pollMs ?? DEFAULT_POLL_MS);
      heartbeat.unref();
      poll.unref();
      cleanup.push(
        () => clearInterval(heartbeat),
        () => clearInterval(poll),
      );
      write(encoder.encode(`retry: ${options.retryMs}\n: jobtracker worker events\n\n`));

      (async () => {
        // Every cancel at or below this cursor is in the log already (committed before it was published).
        const current = Math.max(engine.cursor, await engine.store.maxCursor());
        const watermark = await engine.store.pruneWatermark();
        if (since === undefined) last = current;
        else if (since < watermark || since > current) {
          last = since > current ? current : watermark;
          write(frame('reset', last, { cursor: String(last) }));
        } else last = since;
        started = true;
        const start = last;
        await readLog();
        last = Math.max(last, start, current);
        write(frame('ready', last, { cursor: String(last) }));
      })().catch(fail);
      if (signal.aborted) close();
    },
    cancel() {
      closed = true;
      for (const stop of cleanup.splice(0)) stop();
    },
  });
  return new Response(stream, { headers: STREAM_HEADERS });
}
