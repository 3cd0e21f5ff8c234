import { createJobClient, type JobClient, type Transport } from '@jobtracker/sdk';
import { ContextProvider } from '@lit/context';
import { css, html, LitElement, type PropertyValues } from 'lit';
import { jobClientContext } from '../shared/client.js';

/**
 * Creates one SDK client from its attributes and hands it to every jobtracker element inside it, so
 * they share one client and one live connection. Give it a `client` property instead to use a client
 * you made yourself (the attributes are then ignored). It renders only its children.
 *
 * ```html
 * <job-provider endpoint="/api" token="eyJ…" user="u-42">
 *   <job-button type="report.export"><button>Export</button></job-button>
 *   <job-tracker></job-tracker>
 * </job-provider>
 * ```
 *
 * @tagname job-provider
 * @summary Shares one job client with every jobtracker element inside it.
 *
 * @slot - The page content, with the jobtracker elements that use this provider's client.
 */
export class JobProvider extends LitElement {
  static override styles = css`
    :host {
      display: contents;
    }
  `;

  static override properties = {
    endpoint: {},
    token: {},
    user: {},
    transport: {},
    client: { attribute: false },
  };

  /** The job API's base URL, e.g. `/api` or `https://jobs.example.com/api` (default `/api`). */
  declare endpoint: string;
  /** A bearer token for the job API (short-lived; minted by the page's backend). */
  declare token: string | undefined;
  /** Whose jobs these are: keys the local cache (default: the token's `sub`). */
  declare user: string | undefined;
  /** `auto` (default: SSE, polling when the stream cannot be held), `sse` or `poll`. */
  declare transport: Transport;
  /** A client to provide instead of one made from the attributes. */
  declare client: JobClient | undefined;

  readonly #provider = new ContextProvider(this, { context: jobClientContext });
  #created: JobClient | undefined;
  #createdFrom = '';

  constructor() {
    super();
    this.endpoint = '/api';
    this.transport = 'auto';
  }

  /** The client the elements inside receive: the `client` property, else the one made from the attributes. */
  get providedClient(): JobClient {
    if (this.client) return this.client;
    const options = {
      baseUrl: this.endpoint || '/api',
      token: this.token || undefined,
      user: this.user || undefined,
      transport: this.transport || 'auto',
    };
    const key = JSON.stringify(options);
    if (!this.#created || key !== this.#createdFrom) {
      this.#created = createJobClient(options);
      this.#createdFrom = key;
    }
    return this.#created;
  }

  // Provide before the children connect: they ask for the client while connecting, before any update.
  override connectedCallback(): void {
    this.#provider.setValue(this.providedClient);
    super.connectedCallback();
  }

  protected override willUpdate(_changed: PropertyValues<this>): void {
    this.#provider.setValue(this.providedClient);
  }

  protected override render() {
    return html`<slot></slot>`;
  }
}

declare global {
  interface HTMLElementTagNameMap {
    'job-provider': JobProvider;
  }
}
