import { isDeepStrictEqual } from 'node:util';
import type { Job } from '@jobtracker/sdk';
import type { LiveEvent } from '@jobtracker/test-support/server-internals';
import { TERMINAL } from './model.js';
import { show } from './show.js';

/**
 * Every event the engine's hub published to the owners' subscribers, in the order it did, checked
 * against the invariants every event must keep whatever the model says.
 */
export class EventLog {
  /** Every event published, in the order it was. */
  readonly published: LiveEvent[] = [];
  /** Invariants broken so far, each with its event. */
  readonly violations: string[] = [];
  /** Wire JSON of every (job, version) published. */
  readonly #data = new Map<string, string>();
  readonly #latest = new Map<string, Job>();
  readonly #ownerOf = new Map<string, string>();
  #lastCursor: number;

  constructor(startCursor: number) {
    this.#lastCursor = startCursor;
  }

  /** The highest cursor published so far. */
  get lastCursor(): number {
    return this.#lastCursor;
  }

  /** The wire JSON published for this version of the job. */
  dataOf(jobId: string, version: number): string | undefined {
    return this.#data.get(`${jobId}#${version}`);
  }

  /** The last version of the job published. */
  latest(jobId: string): Job | undefined {
    return this.#latest.get(jobId);
  }

  /** Who the job's events were published to. */
  ownerOf(jobId: string): string | undefined {
    return this.#ownerOf.get(jobId);
  }

  /** The events of this owner published in (since, upTo], in order. */
  between(owner: string, since: number, upTo: number): LiveEvent[] {
    return this.published.filter((e) => e.ownerId === owner && e.cursor > since && e.cursor <= upTo);
  }

  /**
   * Why `logged` (the log, or a replay of it, of `owner` after `since` up to `upTo`) is not what was
   * published, or null when it is: every event of the range, except that of a run of a job's progress
   * reports the log may keep only the last, which then stands for the run (`progressFrom` the version
   * before it, `coalescedFrom` the cursor of its first report). Also checks what a client that held every
   * event up to `since` makes of it: the deltas it is sent apply, and it ends at the published jobs.
   */
  loggedMismatch(owner: string, logged: readonly LiveEvent[], since: number, upTo: number): string | null {
    const problems: string[] = [];
    const published = this.published.filter((e) => e.ownerId === owner);
    const byCursor = new Map(published.map((e) => [e.cursor, e]));
    const kept = new Set<number>();
    let last = since;
    for (const event of logged) {
      const say = (what: string) => problems.push(`${what}: ${show(event)}`);
      const original = byCursor.get(event.cursor);
      if (event.cursor <= last || event.cursor > upTo) say(`cursor not in (${last}, ${upTo}]`);
      last = Math.max(last, event.cursor);
      kept.add(event.cursor);
      if (!original) {
        say('never published');
        continue;
      }
      const same = ({ cursor, ownerId, jobId, version, data }: LiveEvent) => [
        cursor,
        ownerId,
        jobId,
        version,
        data,
      ];
      if (!isDeepStrictEqual(same(event), same(original)))
        say(`differs from the published ${show(original)}`);
      if (event.progressFrom === original.progressFrom && event.coalescedFrom === original.coalescedFrom)
        continue;
      const covered = published.filter(
        (e) =>
          e.jobId === event.jobId &&
          e.version > (event.progressFrom ?? event.version) &&
          e.version <= event.version,
      );
      if (
        event.progressFrom === null ||
        covered.length !== event.version - event.progressFrom ||
        covered.some((e) => e.progressFrom === null) ||
        event.coalescedFrom !== covered[0]?.cursor
      )
        say('stands for more than a run of progress reports, or names the wrong start');
    }
    for (const event of published) {
      if (event.cursor <= since || event.cursor > upTo || kept.has(event.cursor)) continue;
      const standsFor = logged.some(
        (l) =>
          l.jobId === event.jobId &&
          l.progressFrom !== null &&
          l.progressFrom < event.version &&
          event.version < l.version,
      );
      if (event.progressFrom === null || !standsFor)
        problems.push(`missing, and no later event stands for it: ${show(event)}`);
    }
    // A client holding every event up to `since` replays the rest.
    const held = new Map<string, Job>();
    for (const event of published) if (event.cursor <= since) held.set(event.jobId, JSON.parse(event.data));
    const touched = new Set<string>();
    for (const event of logged) {
      const delta =
        event.progressFrom !== null && (event.coalescedFrom === null || event.coalescedFrom > since);
      const mine = held.get(event.jobId);
      if (delta && !touched.has(event.jobId) && mine?.version !== event.progressFrom)
        problems.push(
          `a delta on top of ${event.progressFrom} for a client at ${mine?.version}: ${show(event)}`,
        );
      touched.add(event.jobId);
      held.set(event.jobId, JSON.parse(event.data));
    }
    const current = new Map<string, Job>();
    for (const event of published) if (event.cursor <= upTo) current.set(event.jobId, JSON.parse(event.data));
    for (const [jobId, job] of current) {
      if (!isDeepStrictEqual(held.get(jobId), job))
        problems.push(`a client resuming from ${since} ends at ${show(held.get(jobId))}, not ${show(job)}`);
    }
    return problems.length === 0 ? null : problems.slice(0, 5).join('\n    ');
  }

  /** Invariants every published event must keep, whatever the model says. */
  observe(owner: string, event: LiveEvent): void {
    this.published.push(event);
    const violation = (what: string) => this.violations.push(`${what}: event ${show(event)}`);
    if (event.ownerId !== owner) violation(`delivered to ${owner}`);
    if (!(event.cursor > this.#lastCursor)) violation(`cursor not above the previous ${this.#lastCursor}`);
    this.#lastCursor = Math.max(this.#lastCursor, event.cursor);
    let job: Job;
    try {
      job = JSON.parse(event.data) as Job;
    } catch {
      violation('data is not JSON');
      return;
    }
    if (job.id !== event.jobId || job.version !== event.version) violation('data is another job or version');
    if (event.coalescedFrom !== null) violation('published as standing for reports published before it');
    const key = `${event.jobId}#${event.version}`;
    if (this.#data.has(key)) violation('a second event for one (job, version)');
    this.#data.set(key, event.data);
    const previous = this.#latest.get(event.jobId);
    if (!previous) {
      if (job.version !== 1 || job.status !== 'pending')
        violation('the first event of a job is not its creation');
      this.#ownerOf.set(event.jobId, event.ownerId);
    } else {
      if (this.#ownerOf.get(event.jobId) !== event.ownerId) violation('the job changed owner');
      if (TERMINAL.includes(previous.status)) {
        // A finished job never changes, but for being dismissed or brought back (its `dismissedAt`).
        const { dismissedAt, updatedAt: _u, version: _v, ...rest } = job;
        const { dismissedAt: was, updatedAt: _pu, version: _pv, ...before } = previous;
        if ((dismissedAt === null) === (was === null) || !isDeepStrictEqual(rest, before))
          violation(`a ${previous.status} job changed`);
      }
      // Reports of one job committed together (shared mode) are published as their last, on top of the
      // version before them.
      const from = event.progressFrom ?? job.version - 1;
      if (job.version !== previous.version + 1 && from !== previous.version)
        violation(`version ${previous.version} was followed by ${job.version}`);
      if (event.progressFrom !== null) {
        if (event.progressFrom !== previous.version)
          violation(`a report on top of version ${event.progressFrom}, published after ${previous.version}`);
        const { progress, message, updatedAt, version, ...rest } = job;
        const { progress: _p, message: _m, updatedAt: _u, version: _v, ...before } = previous;
        if (job.status !== 'running' || !isDeepStrictEqual(rest, before))
          violation('a progress report changed more than progress, message and updatedAt');
      } else if (job.status === previous.status && job.status === 'running') {
        // Not a report: only a dismissal (or bringing back) of a running job, which changes nothing else.
        const { dismissedAt, updatedAt: _u, version: _v, ...rest } = job;
        const { dismissedAt: was, updatedAt: _pu, version: _pv, ...before } = previous;
        if ((dismissedAt === null) === (was === null) || !isDeepStrictEqual(rest, before))
          violation(
            'a change of a running job that stays running is neither a progress report nor a dismissal',
          );
      }
      if (
        previous.status === 'running' &&
        job.status !== 'pending' &&
        job.attempt === previous.attempt &&
        previous.progress !== null &&
        (job.progress === null || job.progress < previous.progress)
      ) {
        violation(`progress went from ${previous.progress} to ${job.progress} within attempt ${job.attempt}`);
      }
    }
    this.#latest.set(event.jobId, job);
  }
}
