import { isDeepStrictEqual } from 'node:util';
import type { CreateJobResponse, Job } from '@jobtracker/sdk';
import type { ClaimedJob, LiveEvent } from '@jobtracker/test-support/server-internals';
import type { EventOrder } from './mode.js';
import {
  type Call,
  type Expect,
  type ExpectedEvent,
  type Model,
  type Outcome,
  placeholderId,
  REQUEUE_MESSAGE,
} from './model.js';
import { show } from './show.js';

/**
 * Why the answers and events differ from the model's expectation, or null when they agree; `before` is
 * the model as it was before the calls ran.
 */
export function mismatchOf(
  before: Model,
  calls: readonly Call[],
  order: readonly number[],
  expects: Expect[],
  outcomes: Outcome[],
  events: LiveEvent[],
  eventOrder: EventOrder,
): string | null {
  const ids = new Map<string, string>();
  for (const [i, slot] of order.entries()) {
    const expect = expects[i];
    const outcome = outcomes[slot];
    if (expect?.result.kind === 'create' && expect.result.created && outcome?.ok) {
      ids.set(placeholderId(slot), (outcome.value as CreateJobResponse).job.id);
    }
  }
  const real = (id: string) => ids.get(id) ?? id;
  const problems: string[] = [];
  for (const [i, slot] of order.entries()) {
    const expect = expects[i];
    const outcome = outcomes[slot];
    const call = calls[slot];
    if (!expect || !outcome || !call) continue;
    const say = (what: string) => problems.push(`${call.op} (${show(call)}): ${what}`);
    if (expect.refuse) {
      if (outcome.ok) say(`accepted, expected ${expect.refuse.status} ${expect.refuse.code}`);
      else if (outcome.status !== expect.refuse.status || outcome.code !== expect.refuse.code) {
        say(
          `refused ${outcome.status} ${outcome.code}, expected ${expect.refuse.status} ${expect.refuse.code}`,
        );
      }
      continue;
    }
    if (!outcome.ok) {
      say(`refused ${outcome.status} ${outcome.code}, expected ${show(expect.result)}`);
      continue;
    }
    const result = expect.result;
    const value = outcome.value;
    const got = (fields: unknown[]) => fields;
    switch (result.kind) {
      case 'job': {
        const job = value as Job;
        if (
          !isDeepStrictEqual(got([job.id, job.version, job.status]), [
            real(result.id),
            result.version,
            result.status,
          ])
        )
          say(`answered ${show([job.id, job.version, job.status])}, expected ${show(result)}`);
        break;
      }
      case 'create': {
        const response = value as CreateJobResponse;
        const actual = [response.created, response.reason, response.job.id, response.job.version];
        if (!isDeepStrictEqual(actual, [result.created, result.reason, real(result.id), result.version]))
          say(`answered ${show(actual)}, expected ${show(result)}`);
        if (result.created && before.jobs.some((job) => job.id === response.job.id))
          say('a new job got the id of an existing one');
        break;
      }
      case 'claim': {
        const claimed = value as ClaimedJob | null;
        const actual = claimed ? [claimed.job.id, claimed.job.version] : null;
        if (!isDeepStrictEqual(actual, result.id === null ? null : [real(result.id), result.version]))
          say(`claimed ${show(actual)}, expected ${show(result)}`);
        break;
      }
      case 'lease':
        if ((value as { leaseExpiresAt: number }).leaseExpiresAt !== result.leaseExpiresAt)
          say(`lease until ${show(value)}, expected ${result.leaseExpiresAt}`);
        break;
      case 'count':
        if (value !== result.count) say(`recovered ${show(value)}, expected ${result.count}`);
        break;
      case 'none':
        break;
    }
  }
  const expected = order
    .flatMap((_, i) => expects[i]?.events ?? [])
    .map((e) => ({ ...e, jobId: real(e.jobId) }));
  const actual = events.map((event): ExpectedEvent => {
    const job = JSON.parse(event.data) as Job;
    return {
      jobId: event.jobId,
      owner: event.ownerId,
      version: event.version,
      status: job.status,
      progress: job.progress,
      attempt: job.attempt,
      message: job.message,
      dismissed: job.dismissedAt !== null,
      progressReport: event.progressFrom !== null,
    };
  });
  // Stable: each job's events keep their order.
  const inOrder = (list: ExpectedEvent[]) =>
    eventOrder === 'total'
      ? list
      : [...list].sort((a, b) => (a.jobId < b.jobId ? -1 : a.jobId > b.jobId ? 1 : 0));
  const published = inOrder(actual);
  const same =
    expected.length === actual.length &&
    inOrder(expected).every((e, i) => {
      const a = published[i];
      return (
        a !== undefined &&
        isDeepStrictEqual(e, e.message === REQUEUE_MESSAGE ? { ...a, message: e.message } : a)
      );
    });
  if (!same) problems.push(`published ${show(actual)}, expected ${show(expected)}`);
  return problems.length === 0 ? null : problems.join('\n    ');
}
