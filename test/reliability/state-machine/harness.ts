import { isDeepStrictEqual } from 'node:util';
import type { CreateJobResponse, Job } from '@jobtracker/sdk';
import type { JobStore } from '@jobtracker/server';
import type { Changes, ClaimedJob, JobEngine, LiveEvent } from '@jobtracker/test-support/server-internals';
import { toWireJob } from '@jobtracker/test-support/server-internals';
import { OWNERS, type Template } from './arbitraries.js';
import { invoke, resolveCall, type SingleTemplate } from './calls.js';
import { mismatchOf } from './compare.js';
import { EventLog } from './event-log.js';
import type { ModeRules } from './mode.js';
import { bind, type Call, isActive, type Model, type ModelJob, type Outcome, predict } from './model.js';
import { show } from './show.js';
import { countBatch, type Stats } from './stats.js';

/** One sequence's engine, over its own fresh database. */
export interface RunContext {
  engine: JobEngine;
  store: JobStore;
  clock: { now: number };
  /** What the engine reported to its `onError`. */
  errors: unknown[];
  stats: Stats;
  /**
   * How long events may take to reach the subscribers after the calls that made them answered: 0 where
   * the engine publishes before it answers, longer where they come through the database's feed.
   */
  deliveryTimeoutMs: number;
  rules: ModeRules;
}

/**
 * One sequence of steps against the real engine: each batch of calls runs at once, some order of them
 * must be what the model predicts, and every published event, answer, replay and read must agree with
 * what was published.
 */
export class Run {
  readonly model: Model;
  readonly trace: string[] = [];
  readonly #context: RunContext;
  readonly #stats: Stats;
  readonly #log: EventLog;
  readonly #startCursor: number;
  #lastBatch: Call[] = [];

  constructor(context: RunContext) {
    this.#context = context;
    this.#stats = context.stats;
    this.model = {
      now: context.clock.now,
      jobs: [],
      idempotency: new Map(),
    };
    this.#startCursor = context.engine.cursor;
    this.#log = new EventLog(context.engine.cursor);
    for (const owner of OWNERS)
      context.engine.hub.subscribe(owner, (event) => this.#log.observe(owner, event));
  }

  async step(t: Template): Promise<void> {
    this.#stats.steps++;
    let calls: Call[];
    if (t.op === 'repeat') calls = this.#lastBatch;
    else if (t.op === 'pair') {
      const first = this.#resolve(t.first as SingleTemplate);
      const second = t.second === undefined ? first : this.#resolve(t.second as SingleTemplate);
      calls = [first, second];
    } else calls = [this.#resolve(t)];
    if (calls.length === 0) return;
    this.#lastBatch = calls;
    await this.#batch(calls);
  }

  #resolve(t: SingleTemplate): Call {
    const { engine } = this.#context;
    const scene = { model: this.model, startCursor: this.#startCursor, cursor: engine.cursor };
    return resolveCall(t, { ...scene, published: this.#log.published });
  }

  /** Runs the calls at once; some order of them must be what the model predicts, and every check must hold. */
  async #batch(calls: Call[]): Promise<void> {
    const { engine, clock } = this.#context;
    const from = this.#log.published.length;
    const cursorBefore = engine.cursor;
    const outcomes = await Promise.all(calls.map((call) => invoke(engine, clock, call)));
    const predictions = this.#explanations(calls).map(({ order, skipped }) => {
      const model = structuredClone(this.model);
      const expects = order.map((slot) => predict(model, calls[slot] as Call, slot, skipped[slot]));
      return { order, model, expects, skipped };
    });
    await this.#delivered(
      from,
      predictions.map(({ expects }) => expects.reduce((sum, expect) => sum + expect.events.length, 0)),
    );
    const events = this.#log.published.slice(from);
    const mismatches: string[] = [];
    let matched: number[] | null = null;
    for (const { order, model, expects, skipped } of predictions) {
      const mismatch = mismatchOf(
        this.model,
        calls,
        order,
        expects,
        outcomes,
        events,
        this.#context.rules.eventOrder,
      );
      if (mismatch) {
        const passing = skipped.flatMap((id, slot) => (id ? [` (call ${slot} passing over ${id})`] : []));
        mismatches.push(`in the order ${order.join(', ')}${passing.join('')}:\n    ${mismatch}`);
        continue;
      }
      for (const slot of order) bind(model, slot, outcomes[slot] as Outcome);
      Object.assign(this.model, model);
      matched = order;
      break;
    }
    const line = `${calls.length > 1 ? 'at once: ' : ''}${calls
      .map((call, slot) => {
        const outcome = outcomes[slot] as Outcome;
        return `${show(call)} -> ${outcome.ok ? 'ok' : `${outcome.status} ${outcome.code}`}`;
      })
      .join(
        ' | ',
      )} -> events ${show(events.map((e) => [e.jobId.slice(-6), e.version, (JSON.parse(e.data) as Job).status]))}`;
    this.trace.push(line);
    this.#checkInvariants();
    if (!matched) this.#fail(`the engine disagrees with the model\n  ${mismatches.join('\n  ')}`);
    countBatch(this.#stats, calls, outcomes, events, matched);
    const visible = new Set(events.map((event) => event.jobId));
    await this.#checkAnswers(calls, outcomes, cursorBefore);
    await this.#checkViews(
      new Set([...visible, ...calls.flatMap((call) => ('id' in call ? [call.id] : []))]),
    );
    if (calls.length === 1 && calls[0]?.op === 'flush') await this.checkDurable();
  }

  /**
   * The ways the model may explain calls made at once: each order, and where the mode's claims skip
   * locked rows, a claim passing over the job the other call names.
   */
  #explanations(calls: readonly Call[]): { order: number[]; skipped: (string | null)[] }[] {
    if (calls.length === 1) return [{ order: [0], skipped: [null] }];
    const orders = [
      [0, 1],
      [1, 0],
    ];
    const none: (string | null)[] = [null, null];
    const explanations: { order: number[]; skipped: (string | null)[] }[] = orders.map((order) => ({
      order,
      skipped: none,
    }));
    if (!this.#context.rules.claimSkipsLockedRows) return explanations;
    for (const [slot, call] of calls.entries()) {
      const other = calls[1 - slot];
      if (call.op !== 'claim' || !other || !('id' in other)) continue;
      const skipped = slot === 0 ? [other.id, null] : [null, other.id];
      for (const order of orders) explanations.push({ order, skipped });
    }
    return explanations;
  }

  /**
   * Waits, up to the delivery timeout, until the subscribers have seen as many events since `from` as
   * one of the orders predicts and everything the database's log holds; the checks after it say what
   * differs when that never happens.
   */
  async #delivered(from: number, counts: readonly number[]): Promise<void> {
    const { engine, store, deliveryTimeoutMs } = this.#context;
    // Published before the calls answered: nothing to wait for.
    if (deliveryTimeoutMs === 0) return;
    const deadline = performance.now() + deliveryTimeoutMs;
    for (;;) {
      const seen = this.#log.published.length - from;
      if (counts.includes(seen) && engine.cursor >= (await store.maxCursor())) return;
      if (performance.now() >= deadline) return;
      await new Promise((resolve) => setTimeout(resolve, 2));
    }
  }

  #fail(message: string): never {
    throw new Error(`${message}\n  steps run (last 40):\n    ${this.trace.slice(-40).join('\n    ')}`);
  }

  #checkInvariants(): void {
    const { engine, errors } = this.#context;
    const { violations, lastCursor } = this.#log;
    if (violations.length > 0) this.#fail(`invariants broken:\n    ${violations.join('\n    ')}`);
    if (errors.length > 0) this.#fail(`the engine reported errors: ${errors.map(String).join('; ')}`);
    if (engine.cursor !== lastCursor)
      this.#fail(`the engine's cursor ${engine.cursor} is not the last published ${lastCursor}`);
  }

  /** A job a call answered with is the one published at its version; a replay is exactly what was published. */
  async #checkAnswers(calls: Call[], outcomes: Outcome[], cursorBefore: number): Promise<void> {
    for (const [slot, call] of calls.entries()) {
      const outcome = outcomes[slot];
      if (!outcome?.ok || outcome.value === null || outcome.value === undefined) continue;
      const jobs: Job[] = [];
      if (call.op === 'create' || call.op === 'retry') jobs.push((outcome.value as CreateJobResponse).job);
      else if (call.op === 'claim') jobs.push((outcome.value as ClaimedJob).job);
      else if (['progress', 'complete', 'fail', 'release', 'cancel', 'get', 'dismiss'].includes(call.op))
        jobs.push(outcome.value as Job);
      for (const job of jobs) {
        const data = this.#log.dataOf(job.id, job.version);
        if (data === undefined)
          this.#fail(`${show(call)} answered version ${job.version} of ${job.id}, never published`);
        if (!isDeepStrictEqual(job, JSON.parse(data)))
          this.#fail(`${show(call)} answered ${show(job)}, but published ${data} for that version`);
      }
      if (call.op === 'claim') {
        const claimed = outcome.value as ClaimedJob;
        if (claimed.ownerId !== this.#log.ownerOf(claimed.job.id))
          this.#fail(`claim answered the wrong owner`);
      }
      if (call.op === 'replay') {
        this.#stats.replays++;
        const changes = outcome.value as Changes;
        const upTo = changes.cursor;
        if (upTo < cursorBefore || upTo > this.#context.engine.cursor)
          this.#fail(`replay cursor ${upTo} outside [${cursorBefore}, ${this.#context.engine.cursor}]`);
        const reset = call.since === 0 || call.since < this.#startCursor || call.since > upTo;
        const expected = reset ? [] : this.#log.between(call.owner, call.since, upTo);
        const mismatch = reset
          ? changes.events.length > 0 && 'events with a reset'
          : this.#log.loggedMismatch(call.owner, changes.events, call.since, upTo);
        if (changes.reset !== reset || mismatch) {
          this.#fail(
            `${show(call)} replayed reset=${changes.reset} ${show(changes.events.map((e) => [e.cursor, e.jobId, e.version, e.progressFrom]))}, ` +
              `expected reset=${reset} ${show(expected.map((e) => [e.cursor, e.jobId, e.version]))}: ${mismatch}`,
          );
        }
      }
    }
  }

  /** The engine's view of the jobs equals the last published version, and the model's. */
  async #checkViews(touched: Set<string>): Promise<void> {
    for (const job of this.model.jobs) {
      if (!touched.has(job.id) && !isActive(job.status)) continue;
      await this.#checkView(job);
    }
  }

  async #checkView(job: ModelJob): Promise<Job> {
    const view = await this.#context.engine.get(job.owner, job.id);
    const latest = this.#log.latest(job.id);
    if (!isDeepStrictEqual(view, latest))
      this.#fail(`engine.get answers ${show(view)} but the last published version is ${show(latest)}`);
    const modelled = [job.status, job.version, job.progress, job.attempt];
    if (!isDeepStrictEqual([view.status, view.version, view.progress, view.attempt], modelled))
      this.#fail(`engine.get answers ${show(view)}, the model has ${show(modelled)}`);
    return view;
  }

  /** After a flush: the database holds what the engine holds, and the log replays exactly what was published. */
  async checkDurable(): Promise<void> {
    this.#stats.flushChecks++;
    for (const job of this.model.jobs) {
      const row = await this.#context.store.getJob(job.id);
      if (isActive(job.status)) {
        // The engine holds active jobs in memory: its record must be what the database now has.
        await this.#checkView(job);
        const record = await this.#context.engine.getRecord(job.id);
        if (!isDeepStrictEqual(row, record))
          this.#fail(`after a flush the database has ${show(row)}, the engine ${show(record)}`);
      } else {
        // A finished job is read from the database: its row must be the last version published.
        const wire = row && toWireJob(row);
        if (!isDeepStrictEqual(wire, this.#log.latest(job.id)) || wire?.status !== job.status)
          this.#fail(
            `after a flush the database has ${show(row)}, published ${show(this.#log.latest(job.id))}`,
          );
      }
    }
    const upTo = this.#context.engine.cursor;
    for (const owner of OWNERS) {
      const published = this.#log.between(owner, 0, upTo);
      const logged = (
        await this.#context.store.eventsAfter(owner, 0, Number.MAX_SAFE_INTEGER, 1_000_000)
      ).map(
        ({ cursor, ownerId, jobId, version, data, progressFrom, coalescedFrom }): LiveEvent => ({
          cursor,
          ownerId,
          jobId,
          version,
          data,
          progressFrom,
          coalescedFrom,
        }),
      );
      const mismatch = this.#log.loggedMismatch(owner, logged, this.#startCursor, upTo);
      if (mismatch)
        this.#fail(
          `the log of ${owner} after a flush differs from what was published: ${show(logged.map((e) => [e.cursor, e.version, e.progressFrom]))}\n    ${mismatch}`,
        );
      // The log's start; when the log was empty that is 0, which means "nothing" and resets, so the first
      // cursor published (any owner's) stands for it.
      const logStart = this.#startCursor === 0 ? (this.#log.published[0]?.cursor ?? upTo) : this.#startCursor;
      for (const since of [logStart, published[Math.floor(published.length / 2)]?.cursor ?? upTo]) {
        const changes = await this.#context.engine.changesSince(owner, since);
        const mismatch = this.#log.loggedMismatch(owner, changes.events, since, upTo);
        if (changes.reset || changes.cursor !== upTo || mismatch)
          this.#fail(
            `changesSince(${owner}, ${since}) after a flush is ${show(changes)}, expected ${show(this.#log.between(owner, since, upTo))}: ${mismatch}`,
          );
      }
      const fromZero = await this.#context.engine.changesSince(owner, 0);
      if (!fromZero.reset || fromZero.events.length > 0)
        this.#fail(`changesSince(${owner}, 0) is not a reset`);
      const mine = this.model.jobs.filter((job) => job.owner === owner);
      const listed = await this.#context.engine.list(owner, { limit: 1000 });
      const expectedList = mine.map((job) => this.#log.latest(job.id));
      const byId = (a: Job | undefined, b: Job | undefined) => ((a?.id ?? '') < (b?.id ?? '') ? -1 : 1);
      if (!isDeepStrictEqual([...listed].sort(byId), [...expectedList].sort(byId)))
        this.#fail(`engine.list(${owner}) is ${show(listed)}, expected the last published versions`);
      const snapshot = await this.#context.engine.snapshot(owner);
      const activeIds = mine.filter((job) => isActive(job.status)).map((job) => job.id);
      if (
        snapshot.cursor !== upTo ||
        !snapshot.jobs.every((job) => isDeepStrictEqual(job, this.#log.latest(job.id))) ||
        !activeIds.every((id) => snapshot.jobs.some((job) => job.id === id))
      )
        this.#fail(`snapshot of ${owner} is ${show(snapshot)}`);
    }
  }
}
