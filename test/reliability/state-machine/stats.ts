import type { CreateJobResponse } from '@jobtracker/sdk';
import type { LiveEvent } from '@jobtracker/test-support/server-internals';
import type { Call, Outcome } from './model.js';

/** What a property run exercised, for its closing diagnostic. */
export interface Stats {
  sequences: number;
  steps: number;
  calls: number;
  accepted: number;
  unchanged: number;
  refused: number;
  events: number;
  pairs: number;
  pairsReordered: number;
  flushChecks: number;
  replays: number;
  byRefusal: Map<string, number>;
  ms: number;
}

export const newStats = (): Stats => ({
  sequences: 0,
  steps: 0,
  calls: 0,
  accepted: 0,
  unchanged: 0,
  refused: 0,
  events: 0,
  pairs: 0,
  pairsReordered: 0,
  flushChecks: 0,
  replays: 0,
  byRefusal: new Map<string, number>(),
  ms: 0,
});

/** Counts one batch of calls that agreed with the model in `matched` order. */
export function countBatch(
  stats: Stats,
  calls: readonly Call[],
  outcomes: readonly Outcome[],
  events: readonly LiveEvent[],
  matched: readonly number[],
): void {
  stats.events += events.length;
  if (calls.length > 1) {
    stats.pairs++;
    if (matched[0] === 1) stats.pairsReordered++;
  }
  for (const outcome of outcomes) {
    stats.calls++;
    if (outcome.ok) stats.accepted++;
    else {
      stats.refused++;
      const key = `${outcome.status} ${outcome.code}`;
      stats.byRefusal.set(key, (stats.byRefusal.get(key) ?? 0) + 1);
    }
  }
  const visible = new Set(events.map((event) => event.jobId));
  for (const [slot, call] of calls.entries()) {
    const outcome = outcomes[slot];
    if (!outcome?.ok || !['progress', 'heartbeat', 'cancel', 'create', 'retry'].includes(call.op)) continue;
    const id = 'id' in call ? call.id : (outcome.value as CreateJobResponse).job.id;
    if (!visible.has(id)) stats.unchanged++;
  }
}

/** The closing diagnostic of a property run. */
export function describeStats(stats: Stats, seed: number, maxSteps: number): string {
  const refusals = [...stats.byRefusal.entries()]
    .sort((a, b) => b[1] - a[1])
    .map(([code, count]) => `${code} ×${count}`)
    .join(', ');
  return (
    `seed ${seed}: ${stats.sequences} sequences (up to ${maxSteps} steps), ${stats.steps} steps, ` +
    `${stats.calls} calls: ${stats.accepted} accepted (${stats.unchanged} of them changed nothing), ` +
    `${stats.refused} refused (${refusals}); ${stats.pairs} pairs at once (${stats.pairsReordered} ran in the ` +
    `other order), ${stats.events} events, ${stats.replays} replays, ${stats.flushChecks} database checks; ` +
    `${(stats.ms / 1000).toFixed(1)} s`
  );
}
