import type { Job, JobClient } from '@jobtracker/sdk';
import { html, LitElement, type PropertyValues } from 'lit';
import { JobClientController } from '../shared/client-controller.js';
import { LocaleController } from '../shared/locale.js';
import type { JobMessages } from '../shared/messages.js';
import { tokens } from '../shared/styles.js';
import { badgeStyles } from './job-badge.styles.js';

/**
 * The number of the user's active (pending or running) jobs, for a menu or a nav bar:
 * `<a href="/programs">Programs <job-badge type="epm_generation"></job-badge></a>`. It follows the
 * jobs live and takes no space while the count is zero.
 *
 * The visible text comes from `messages.badge(count)`; assistive technology gets
 * `messages.badgeLabel(count)` ("2 jobs running") from a polite status region, which changes (and so
 * is announced) only when the count does. The host carries a read-only `count` attribute with the
 * current count, e.g. for `job-badge[count='0']` in the page's CSS.
 *
 * @tagname job-badge
 * @summary Count of the user's running jobs, hidden at zero.
 *
 * @attr {number} count - Read-only: set by the element to the current count, for CSS such as `job-badge[count='0']`.
 *
 * @csspart badge - The visible pill with the count.
 *
 * @cssprop --job-badge-bg - Background of the pill (default `--job-accent`).
 * @cssprop --job-badge-fg - Text color of the pill (default `--job-accent-fg`).
 * @cssprop --job-accent - Accent color, used by the pill unless `--job-badge-bg` is set.
 * @cssprop --job-accent-fg - Text on the accent color, unless `--job-badge-fg` is set.
 * @cssprop --job-font - Font family.
 * @cssprop --job-fg - Text color of the host, which the pill overrides.
 */
export class JobBadge extends LitElement {
  static override styles = [tokens, badgeStyles];

  static override properties = {
    client: { attribute: false },
    messages: { attribute: false },
    type: {},
    scope: {},
    theme: { reflect: true },
  };

  /** The SDK client; defaults to the nearest `<job-provider>`'s, else the page-wide one. */
  declare client: JobClient | undefined;
  /** Replacement strings (any subset of `JobMessages`; the badge uses `badge` and `badgeLabel`). */
  declare messages: Partial<JobMessages> | undefined;
  /** Counts only jobs of this type, e.g. `epm_generation`. */
  declare type: string | undefined;
  /** Counts only jobs of this scope, e.g. `analysis-7`. */
  declare scope: string | undefined;
  /** `light` or `dark` forces a theme; default follows `prefers-color-scheme`. */
  declare theme: 'light' | 'dark' | undefined;

  readonly #clients = new JobClientController(this);
  readonly #locale = new LocaleController(this);
  #active: readonly Job[] = [];

  constructor() {
    super();
    this.#clients.watch(
      (client) => client.$active,
      (jobs) => {
        this.#active = jobs;
      },
    );
  }

  /** How many active jobs match `type` and `scope` right now (also on the host's `count` attribute). */
  get count(): number {
    const { type, scope } = this;
    return this.#active.filter((job) => (!type || job.type === type) && (!scope || job.scope === scope))
      .length;
  }

  protected override willUpdate(_changed: PropertyValues<this>) {
    const count = String(this.count);
    if (this.getAttribute('count') !== count) this.setAttribute('count', count);
  }

  protected override render() {
    const { messages } = this.#locale.wording(this.messages);
    const count = this.count;
    return html`<span part="badge" class="badge" aria-hidden="true">${messages.badge(count)}</span><span
        class="visually-hidden"
        role="status"
        >${count > 0 ? messages.badgeLabel(count) : ''}</span
      >`;
  }
}

declare global {
  interface HTMLElementTagNameMap {
    'job-badge': JobBadge;
  }
}
