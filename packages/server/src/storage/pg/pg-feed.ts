import { Client } from 'pg';
import type { ChangeFeed } from '../store.js';

export interface PgChangeFeedOptions {
  url: string;
  /** The notification channel, a lowercase identifier. */
  channel: string;
  /** Where a lost listener connection or a failed reconnect is reported; must not throw. */
  onError: (error: unknown) => void;
}

/** The `application_name` of the listener connection, to find it in `pg_stat_activity`. */
export const FEED_APPLICATION_NAME = 'jobtracker-feed';

const FIRST_RETRY_MS = 100;
const LAST_RETRY_MS = 5000;

/**
 * `LISTEN`s on a connection of its own (a pooled one would be handed to other queries). When that
 * connection drops it reconnects with backoff, listens again, then reports `null`: notifications sent
 * in between are lost.
 */
export class PgChangeFeed implements ChangeFeed {
  readonly #options: PgChangeFeedOptions;
  #onChange: ((cursor: number | null) => void) | null = null;
  #client: Client | null = null;
  #running = false;
  #failures = 0;
  #retryTimer: NodeJS.Timeout | null = null;
  #reconnecting: Promise<void> | null = null;

  constructor(options: PgChangeFeedOptions) {
    this.#options = options;
  }

  /** Connects and listens; rejects (and stays stopped) when the first connection fails. */
  async start(onChange: (cursor: number | null) => void): Promise<void> {
    if (this.#running) throw new Error('The change feed is already started.');
    this.#running = true;
    this.#onChange = onChange;
    this.#failures = 0;
    try {
      const client = await this.#listen();
      if (!this.#running) {
        await this.#discard(client);
        return;
      }
      this.#client = client;
    } catch (error) {
      this.#running = false;
      throw error;
    }
  }

  async stop(): Promise<void> {
    this.#running = false;
    if (this.#retryTimer) clearTimeout(this.#retryTimer);
    this.#retryTimer = null;
    const client = this.#client;
    this.#client = null;
    await this.#reconnecting;
    if (client) await this.#discard(client);
  }

  async #listen(): Promise<Client> {
    const client = new Client({
      connectionString: this.#options.url,
      application_name: FEED_APPLICATION_NAME,
      keepAlive: true,
      connectionTimeoutMillis: 5000,
    });
    client.on('error', (error) => this.#lost(client, error));
    client.on('end', () => this.#lost(client, null));
    client.on('notification', (message) => {
      if (!this.#running || message.channel !== this.#options.channel) return;
      const cursor = Number(message.payload);
      this.#deliver(Number.isSafeInteger(cursor) ? cursor : null);
    });
    try {
      await client.connect();
      await client.query(`LISTEN "${this.#options.channel}"`);
      return client;
    } catch (error) {
      await this.#discard(client);
      throw error;
    }
  }

  #deliver(cursor: number | null) {
    try {
      this.#onChange?.(cursor);
    } catch (error) {
      this.#options.onError(error);
    }
  }

  #lost(client: Client, error: Error | null) {
    if (client !== this.#client) return;
    this.#client = null;
    void this.#discard(client);
    if (!this.#running) return;
    this.#options.onError(error ?? new Error('The change feed’s listener connection ended.'));
    this.#scheduleReconnect();
  }

  #scheduleReconnect() {
    const backoff = Math.min(LAST_RETRY_MS, FIRST_RETRY_MS * 2 ** this.#failures);
    const delay = backoff * (0.5 + Math.random() / 2);
    this.#retryTimer = setTimeout(() => {
      this.#retryTimer = null;
      this.#reconnecting = this.#reconnect().finally(() => {
        this.#reconnecting = null;
      });
    }, delay);
  }

  async #reconnect() {
    if (!this.#running) return;
    let client: Client;
    try {
      client = await this.#listen();
    } catch (error) {
      this.#failures += 1;
      if (!this.#running) return;
      this.#options.onError(error);
      this.#scheduleReconnect();
      return;
    }
    if (!this.#running) {
      await this.#discard(client);
      return;
    }
    this.#failures = 0;
    this.#client = client;
    this.#deliver(null);
  }

  /** Ends a connection that is no longer the listener; its late errors have nowhere to go. */
  async #discard(client: Client) {
    client.removeAllListeners('notification');
    client.on('error', () => {});
    await client.end().catch(() => {});
  }
}
