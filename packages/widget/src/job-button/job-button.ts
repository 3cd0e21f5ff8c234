import {
  type Job,
  type JobClient,
  JobTrackerHttpError,
  JobTrackerNetworkError,
  type JsonValue,
} from '@jobtracker/sdk';
import { html, LitElement, nothing } from 'lit';
import { jobsAnnounced } from '../shared/announcing.js';
import { JobClientController } from '../shared/client-controller.js';
import { JobErrorEvent, JobStartEvent } from '../shared/events.js';
import { LocaleController } from '../shared/locale.js';
import { formatPercent, type JobMessages, type StartFailureKind } from '../shared/messages.js';
import { tokens } from '../shared/styles.js';
import { buttonStyles } from './job-button.styles.js';

type Control = HTMLButtonElement | HTMLInputElement;
const CONTROLS = 'button, input[type="button"], input[type="submit"]';

/** The attributes the element sets on a control it holds, each put back to the page's value after. */
const HELD_ATTRIBUTES = ['aria-disabled', 'aria-busy', 'aria-description'] as const;
type Held = Record<(typeof HELD_ATTRIBUTES)[number], string | null>;

/**
 * Wraps the page's own button: a click starts a background job, and while a job of that type and
 * scope is active (started here, in another tab, or before a reload) the button is held: marked
 * `aria-disabled="true"` and `aria-busy="true"` with the progress as its `aria-description`, and a click,
 * Enter or Space on it does nothing (no job, no click listener on the button, no form submission). It keeps the
 * focus, which the native `disabled` would drop to the page's body. The progress shows beside it. When
 * the job ends the button is put back exactly as it was. A button the page disabled itself (`disabled`
 * or `aria-disabled="true"`) starts nothing.
 *
 * ```html
 * <job-button type="demo.generate" scope="analysis-7" job-title="Q3 program" input='{"durationMs":5000}'>
 *   <button type="button" class="btn">Generate program</button>
 * </job-button>
 * ```
 *
 * The slotted markup and styling stay the page's; every `<button>` (and `<input type="button|submit">`)
 * in the slot is a trigger. Inside a `<form>` give the button `type="button"`, or the click also submits.
 * A second click while the start request is in flight does nothing; the server's dedupe of an active
 * job of the same type and scope is the final guard (that job comes back with `created: false`).
 * "Could not start" because the API could not be reached clears once the client's connection is back.
 * Style a held button with `[aria-disabled="true"]`.
 *
 * @tagname job-button
 * @summary Starts a background job from the page's own button and holds it (aria-disabled) while the job runs.
 *
 * @fires {JobStartEvent} job-start - A start request succeeded: `job`, and `created` false when the server returned an already active job.
 * @fires {JobErrorEvent} job-error - Starting failed, or `type`/`input` are invalid: `error`, the SDK's typed error for a failed request.
 *
 * @slot - The page's own button(s) that start the job.
 *
 * @csspart status - The progress beside the button while the job runs, "Working… 42%" (`role="status"`, unless a `<job-tracker>` of the same client announces the job).
 * @csspart error - Why the job could not be started (`role="alert"`); empty otherwise.
 *
 * @cssprop --job-gap - Space between the button and the status or error text.
 * @cssprop --job-muted - Color of the status text.
 * @cssprop --job-danger - Color of the error text.
 * @cssprop --job-font - Font family of the element, which slotted content inherits.
 * @cssprop --job-fg - Text color of the element, which slotted content inherits.
 */
export class JobButton extends LitElement {
  static override styles = [tokens, buttonStyles];

  static override properties = {
    type: {},
    scope: {},
    input: {},
    jobTitle: { attribute: 'job-title' },
    idempotencyKey: { attribute: 'idempotency-key' },
    client: { attribute: false },
    messages: { attribute: false },
  };

  /** The job type to start, e.g. `demo.generate` (letters, digits and `. _ : -`). */
  declare type: string | undefined;
  /** Groups jobs of one context (a document, a session); with `type` it decides what counts as "already running". */
  declare scope: string | undefined;
  /** The job's input as JSON text, e.g. `{"durationMs":5000}`; invalid JSON shows an error and starts nothing. */
  declare input: string | undefined;
  /** A label for people, e.g. "Q3 program" (attribute `job-title`). */
  declare jobTitle: string | undefined;
  /** Sent as `Idempotency-Key`: the same key always returns the same job (attribute `idempotency-key`). */
  declare idempotencyKey: string | undefined;
  /** The SDK client; defaults to the nearest `<job-provider>`'s, else the page-wide one. */
  declare client: JobClient | undefined;
  /** Replacement strings (any subset of `JobMessages`; this element uses `buttonProgress`, `startFailed`, `startFailureReason`, `percent`, `genericError`). */
  declare messages: Partial<JobMessages> | undefined;

  readonly #clients = new JobClientController(this);
  readonly #locale = new LocaleController(this);
  #active: Job | undefined;
  #starting = false;
  #error: string | null = null;
  /** The error came from a start request that could not reach the API: the connection's return clears it. */
  #unreachable = false;
  readonly #held = new Map<Control, Held>();

  constructor() {
    super();
    // Capture: a held control's click stops here, before the page's own listeners and its form see it.
    this.addEventListener('click', this.#onHeldClick, { capture: true });
    this.addEventListener('click', this.#onClick);
    // Follows the active job of this type and scope: again whenever the client, type or scope change.
    this.#clients.subscribe(
      (client) =>
        client.activeFor(this.type ?? '', this.#scope()).subscribe((job) => {
          this.#active = job;
          // A job of this type and scope runs now (started here or elsewhere): an earlier failure is moot.
          if (job) this.#error = null;
          this.requestUpdate();
        }),
      () => `${this.type ?? ''}\u0000${this.#scope() ?? ''}`,
    );
    // Any answer from the server after a start failed for want of one means the API is back.
    this.#clients.subscribe((client) =>
      client.$connection.listen(({ state }) => {
        if (!this.#unreachable || (state !== 'live' && state !== 'polling')) return;
        this.#error = null;
        this.#unreachable = false;
        this.requestUpdate();
      }),
    );
  }

  /** The active job of this type and scope, if any. */
  get job(): Job | undefined {
    return this.#active;
  }

  override disconnectedCallback(): void {
    super.disconnectedCallback();
    this.#active = undefined;
    this.#release([]);
  }

  protected override render() {
    const { messages, locale } = this.#locale.wording(this.messages);
    const job = this.#active;
    const status = job
      ? messages.buttonProgress(job.progress === null ? null : formatPercent(job.progress, messages, locale))
      : this.#starting
        ? messages.buttonProgress(null)
        : null;
    // A <job-tracker> that follows the same client announces the job's progress already: no second voice.
    const live = !jobsAnnounced(this.#clients.client);
    return html`<slot @slotchange=${this.#syncControls}></slot><span part="status" class="status" role=${live ? 'status' : nothing}>${status ?? nothing}</span><span part="error" class="error" role="alert">${this.#error ?? nothing}</span>`;
  }

  protected override updated(): void {
    this.#syncControls();
  }

  #scope(): string | null {
    return this.scope || null;
  }

  get #busy(): boolean {
    return this.#starting || this.#active !== undefined;
  }

  #controls(): Control[] {
    const slot = this.renderRoot?.querySelector?.('slot');
    const assigned = slot
      ? slot.assignedElements({ flatten: true })
      : [...this.children].filter((child) => !child.slot);
    return assigned.flatMap((element) =>
      element.matches(CONTROLS) ? [element as Control] : [...element.querySelectorAll<Control>(CONTROLS)],
    );
  }

  readonly #syncControls = () => {
    if (!this.#busy) {
      this.#release([]);
      return;
    }
    const controls = this.#controls();
    this.#release(controls);
    const reason = this.renderRoot?.querySelector?.('[part="status"]')?.textContent || null;
    for (const control of controls) {
      if (!this.#held.has(control)) {
        const was = {} as Held;
        for (const name of HELD_ATTRIBUTES) was[name] = control.getAttribute(name);
        this.#held.set(control, was);
        control.setAttribute('aria-disabled', 'true');
        control.setAttribute('aria-busy', 'true');
      }
      if (reason) control.setAttribute('aria-description', reason);
    }
  };

  /** Puts back every held control except those in `keep`. */
  #release(keep: readonly Control[]) {
    for (const [control, was] of this.#held) {
      if (keep.includes(control)) continue;
      this.#held.delete(control);
      for (const name of HELD_ATTRIBUTES) {
        const value = was[name];
        if (value === null) control.removeAttribute(name);
        else control.setAttribute(name, value);
      }
    }
  }

  #controlOf(event: Event): Control | undefined {
    const path = event.composedPath();
    return this.#controls().find((candidate) => path.includes(candidate));
  }

  readonly #onHeldClick = (event: MouseEvent) => {
    const control = this.#controlOf(event);
    if (!control || !this.#held.has(control)) return;
    event.preventDefault();
    event.stopImmediatePropagation();
  };

  readonly #onClick = (event: MouseEvent) => {
    const control = this.#controlOf(event);
    if (!control || control.disabled || control.getAttribute('aria-disabled') === 'true') return;
    void this.#start();
  };

  async #start(): Promise<void> {
    if (this.#busy) return;
    const { messages } = this.#locale.wording(this.messages);
    const type = this.type?.trim();
    let input: JsonValue | undefined;
    let invalid: Error | undefined;
    if (!type) invalid = new TypeError('no job type is set');
    else if (this.input?.trim()) {
      try {
        input = JSON.parse(this.input) as JsonValue;
      } catch (error) {
        invalid = new SyntaxError(
          `the input is not valid JSON (${error instanceof Error ? error.message : error})`,
        );
      }
    }
    if (invalid || !type) {
      this.#fail(invalid, messages);
      return;
    }

    this.#error = null;
    this.#unreachable = false;
    this.#starting = true;
    this.#syncControls();
    this.requestUpdate();
    let outcome: { ok: true; job: Job; created: boolean } | { ok: false; error: unknown };
    try {
      const { job, created } = await this.#clients.client.start({
        type,
        scope: this.#scope(),
        title: this.jobTitle || null,
        input,
        idempotencyKey: this.idempotencyKey || undefined,
      });
      outcome = { ok: true, job, created };
    } catch (error) {
      outcome = { ok: false, error };
    }
    this.#starting = false;
    // A started job is active in the client's store by now, so the button stays held; a failure frees it.
    this.#syncControls();
    this.requestUpdate();
    if (!outcome.ok) {
      this.#fail(outcome.error, messages);
      return;
    }
    // Dispatched from a variable: the manifest analyzer takes `new X(first)`'s argument for the event name.
    const started = new JobStartEvent(outcome.job, outcome.created);
    this.dispatchEvent(started);
  }

  #fail(error: unknown, messages: JobMessages) {
    // What the API said is for the page's developer (in English, on the job-error event); the user gets
    // the kind of failure in their language. A mistake in the element's own attributes stays as it is said.
    const kind = startFailureKind(error);
    const reason =
      kind !== null
        ? messages.startFailureReason(kind)
        : error instanceof Error && error.message
          ? error.message
          : null;
    this.#error = reason === null ? messages.genericError : messages.startFailed(reason);
    this.#unreachable = kind === 'unreachable';
    this.requestUpdate();
    const failed = new JobErrorEvent(error);
    this.dispatchEvent(failed);
  }
}

function startFailureKind(error: unknown): StartFailureKind | null {
  if (error instanceof JobTrackerNetworkError) return 'unreachable';
  if (!(error instanceof JobTrackerHttpError)) return null;
  if (error.status === 429) return 'busy';
  if (error.status === 401 || error.status === 403) return 'signedOut';
  return error.status >= 500 ? 'unavailable' : 'refused';
}

declare global {
  interface HTMLElementTagNameMap {
    'job-button': JobButton;
  }
}
