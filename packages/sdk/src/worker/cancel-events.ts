import { JobTrackerNetworkError } from '../errors/errors.js';
import { createSseParser } from '../sse/parse.js';
import type { WorkerCancelEvent } from '../wire.js';
import { backoff, sleep } from './backoff.js';
import type { WorkerHttp } from './worker-http.js';

/** What the cancel stream needs: how to reach the API and what to tell. */
export interface CancelEventsDeps {
  http: WorkerHttp;
  /** A user cancelled a reported job. */
  onCancel(event: WorkerCancelEvent): void;
  /** The server could not replay from the cursor: cancels before it may have been missed. */
  onReset(): void;
  /** Told of every failure to connect or read; the stream backs off and connects again. */
  report(error: unknown): void;
  /** The longest wait between two attempts to connect. */
  maxBackoffMs: number;
  /** No byte for this long and a ready connection is taken for dead. */
  watchdogMs: number;
  /** A connection not ready this long after it was made is taken for broken (a buffering proxy). */
  firstEventMs: number;
}

/** One `GET /api/worker/events` stream, opened and closed on demand, resumed from its cursor. */
export interface CancelEvents {
  /** Connects, unless it is connected or connecting. */
  open(): void;
  /** Disconnects; the cursor is kept, so the next `open()` replays what came meanwhile. */
  close(): void;
  /**
   * Resolves once no cancel can be missed from now on: at once when the stream has a cursor (a reconnect
   * replays from it), else when the first connection is ready, or has failed (a later connection then
   * starts live, and the job's next write learns of a cancel).
   */
  settled(): Promise<void>;
}

/** The worker event stream of a reporter: cancels delivered at once, none lost across reconnects. */
export function createCancelEvents(deps: CancelEventsDeps): CancelEvents {
  const { http, onCancel, onReset, report, maxBackoffMs, watchdogMs, firstEventMs } = deps;
  let cursor: string | undefined;
  let controller: AbortController | null = null;
  let firstSettled: (() => void) | null = null;
  let first: Promise<void> | null = null;
  const settle = () => {
    firstSettled?.();
    firstSettled = null;
  };

  function handle(event: string, data: string) {
    if (event === 'cancel') {
      try {
        onCancel(JSON.parse(data) as WorkerCancelEvent);
      } catch (error) {
        report(error);
      }
    } else if (event === 'reset') onReset();
    else if (event === 'ready') settle();
  }

  async function run(signal: AbortSignal): Promise<void> {
    for (let failures = 0; !signal.aborted; ) {
      // One connection: aborted with the stream, or by its watchdog when nothing arrives in time.
      const connection = new AbortController();
      const stop = () => connection.abort(signal.reason);
      signal.addEventListener('abort', stop, { once: true });
      let watchdog: ReturnType<typeof setTimeout> | undefined;
      const arm = (ms: number, what: string) => {
        clearTimeout(watchdog);
        watchdog = setTimeout(
          () => connection.abort(new JobTrackerNetworkError(`The worker event stream ${what} for ${ms} ms.`)),
          ms,
        );
      };
      let ready = false;
      try {
        arm(firstEventMs, 'was not ready');
        const headers: Record<string, string> = { Accept: 'text/event-stream' };
        if (cursor !== undefined) headers['Last-Event-ID'] = cursor;
        const response = await http.stream('/worker/events', headers, connection.signal);
        const reader = response.body?.getReader();
        const decoder = new TextDecoder();
        const parse = createSseParser((message) => {
          handle(message.event, message.data);
          // The cursor moves past an event only once it is handled.
          if (message.id !== undefined) cursor = message.id;
          if (message.event === 'ready') {
            ready = true;
            failures = 0;
          }
        });
        for (;;) {
          const chunk = await reader?.read();
          if (!chunk || chunk.done) break;
          parse(decoder.decode(chunk.value, { stream: true }));
          if (ready) arm(watchdogMs, 'sent nothing');
        }
      } catch (error) {
        if (signal.aborted) return;
        report(connection.signal.aborted ? connection.signal.reason : error);
        settle();
      } finally {
        clearTimeout(watchdog);
        signal.removeEventListener('abort', stop);
      }
      if (signal.aborted) return;
      await sleep(backoff(failures++, maxBackoffMs), signal);
    }
  }

  return {
    open() {
      if (controller) return;
      const current = new AbortController();
      controller = current;
      void run(current.signal);
    },
    close() {
      controller?.abort();
      controller = null;
      settle();
    },
    settled() {
      if (cursor !== undefined || !controller) return Promise.resolve();
      first ??= new Promise<void>((resolve) => {
        firstSettled = resolve;
      }).finally(() => {
        first = null;
      });
      return first;
    },
  };
}
