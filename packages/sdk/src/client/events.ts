import type { Job } from '../wire.js';
import type { TerminalEvent } from './announcer.js';

export type JobEvent = TerminalEvent | 'progress';

type Listener = (job: Job) => void;

/** The listeners of each event. One that throws is reported (rethrown apart) and stops no other. */
export function createJobEvents() {
  const listeners: Partial<Record<JobEvent, Set<Listener>>> = {};
  return {
    /** Adds a listener; returns the function that removes it. */
    on(event: JobEvent, listener: Listener): () => void {
      const set = listeners[event] ?? new Set();
      listeners[event] = set.add(listener);
      return () => set.delete(listener);
    },
    has: (event: JobEvent) => !!listeners[event]?.size,
    emit(event: JobEvent, job: Job) {
      for (const listener of listeners[event] ?? []) {
        try {
          listener(job);
        } catch (error) {
          queueMicrotask(() => {
            throw error;
          });
        }
      }
    },
  };
}
