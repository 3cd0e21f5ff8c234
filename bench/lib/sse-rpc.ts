/**
 * A tiny request/response protocol over a child process's IPC channel (`serialization: 'advanced'`, so
 * typed arrays cross as they are). The child registers handlers with `handle`; the parent calls them
 * through `RpcChild.call`. A child also pushes events (`emit`) the parent listens to with `RpcChild.on`.
 */
import type { ChildProcess } from 'node:child_process';

interface RpcRequest {
  rpc: number;
  cmd: string;
  args: unknown;
}

interface RpcReply {
  rpc: number;
  ok: boolean;
  result?: unknown;
  error?: string;
}

interface RpcEvent {
  event: string;
  data: unknown;
}

type Handler = (args: never) => unknown;

const handlers = new Map<string, Handler>();
let listening = false;

/** Child side: answers `cmd` with `fn(args)`. Exits when the parent goes away. */
export function handle<A>(cmd: string, fn: (args: A) => unknown): void {
  handlers.set(cmd, fn as Handler);
  if (listening || !process.send) return;
  listening = true;
  process.on('message', (message: RpcRequest) => {
    if (typeof message !== 'object' || message === null || typeof message.rpc !== 'number') return;
    const handler = handlers.get(message.cmd);
    const reply = (body: Omit<RpcReply, 'rpc'>) => process.send?.({ rpc: message.rpc, ...body });
    if (!handler) {
      reply({ ok: false, error: `no handler for ${message.cmd}` });
      return;
    }
    Promise.resolve()
      .then(() => handler(message.args as never))
      .then(
        (result) => reply({ ok: true, result }),
        (error: unknown) =>
          reply({ ok: false, error: error instanceof Error ? error.message : String(error) }),
      );
  });
  // The parent died or let go: nothing is left to measure, so leave at once.
  process.once('disconnect', () => process.exit(0));
}

/** Child side: pushes an event to the parent. */
export function emit(event: string, data: unknown = null): void {
  process.send?.({ event, data } satisfies RpcEvent);
}

/** Parent side: calls the handlers of one child. */
export class RpcChild {
  #next = 1;
  readonly #pending = new Map<
    number,
    { resolve: (value: unknown) => void; reject: (error: Error) => void }
  >();
  readonly #listeners = new Map<string, Set<(data: unknown) => void>>();

  constructor(readonly child: ChildProcess) {
    child.on('message', (message: RpcReply | RpcEvent) => {
      if ('rpc' in message) {
        const pending = this.#pending.get(message.rpc);
        if (!pending) return;
        this.#pending.delete(message.rpc);
        if (message.ok) pending.resolve(message.result);
        else pending.reject(new Error(message.error ?? 'rpc failed'));
      } else if ('event' in message) {
        for (const listener of this.#listeners.get(message.event) ?? []) listener(message.data);
      }
    });
    child.once('exit', (code, signal) => {
      for (const pending of this.#pending.values()) {
        pending.reject(new Error(`child ${child.pid} exited (${signal ?? code}) during a call`));
      }
      this.#pending.clear();
    });
  }

  call<T>(cmd: string, args: unknown = null, timeoutMs = 60_000): Promise<T> {
    const id = this.#next++;
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#pending.delete(id);
        reject(new Error(`rpc ${cmd} to child ${this.child.pid} timed out after ${timeoutMs} ms`));
      }, timeoutMs);
      this.#pending.set(id, {
        resolve: (value) => {
          clearTimeout(timer);
          resolve(value as T);
        },
        reject: (error) => {
          clearTimeout(timer);
          reject(error);
        },
      });
      this.child.send({ rpc: id, cmd, args } satisfies RpcRequest);
    });
  }

  on(event: string, listener: (data: unknown) => void): () => void {
    let set = this.#listeners.get(event);
    if (!set) {
      set = new Set();
      this.#listeners.set(event, set);
    }
    set.add(listener);
    return () => set.delete(listener);
  }
}
