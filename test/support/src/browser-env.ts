/**
 * Helpers for browser tests (`*.browser.test.ts`, run by web-test-runner.config.mjs). The runner's
 * plugin starts a real jobtracker server and answers `/__jobtracker/config` and `/__jobtracker/token`
 * on the test page's own origin; these helpers wrap those and the server's worker API.
 */

export interface BrowserTestConfig {
  /** The real server's API base, e.g. `http://127.0.0.1:41234/api`. */
  apiUrl: string;
  /** The key the server accepts on its worker API. */
  workerKey: string;
}

/** A response as status plus parsed JSON body (`null` when the body is empty). */
export interface JsonResponse<T> {
  status: number;
  json: T;
}

const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

async function readJson(response: Response): Promise<unknown> {
  const text = await response.text();
  if (!text) return null;
  try {
    return JSON.parse(text);
  } catch {
    throw new Error(`${response.url}: HTTP ${response.status}, not JSON: ${text.slice(0, 200)}`);
  }
}

async function getJson(url: string): Promise<unknown> {
  const response = await fetch(url, { cache: 'no-store' });
  const json = await readJson(response);
  if (!response.ok) throw new Error(`${url}: HTTP ${response.status} ${JSON.stringify(json)}`);
  return json;
}

let config: Promise<BrowserTestConfig> | undefined;

/** Where the test server is and its worker key (fetched once per page). */
export function testConfig(): Promise<BrowserTestConfig> {
  config ??= getJson('/__jobtracker/config').then(
    (json) => {
      if (!isRecord(json) || typeof json.apiUrl !== 'string' || typeof json.workerKey !== 'string') {
        throw new Error(`/__jobtracker/config: unexpected answer ${JSON.stringify(json)}`);
      }
      return { apiUrl: json.apiUrl, workerKey: json.workerKey };
    },
    (error: unknown) => {
      config = undefined;
      throw error;
    },
  );
  return config;
}

/** A token the test server accepts for `sub`, valid for `ttlSeconds` (default 600; negative: expired). */
export async function tokenFor(sub: string, ttlSeconds = 600): Promise<string> {
  const query = new URLSearchParams({ sub, ttl: String(Math.trunc(ttlSeconds)) });
  const json = await getJson(`/__jobtracker/token?${query}`);
  if (!isRecord(json) || typeof json.token !== 'string') {
    throw new Error(`/__jobtracker/token: unexpected answer ${JSON.stringify(json)}`);
  }
  return json.token;
}

/** A user id no other test uses, so tests never see each other's jobs (the server is shared). */
export function uniqueUser(prefix = 'user'): string {
  const bytes = crypto.getRandomValues(new Uint8Array(6));
  return `${prefix}-${Array.from(bytes, (byte) => byte.toString(16).padStart(2, '0')).join('')}`;
}

/**
 * POSTs `body` as JSON to the worker API (`${apiUrl}/worker${path}`, e.g. `/claim` or
 * `/jobs/<id>/complete`) with the worker key. `T` is what the test expects back; it is not checked.
 */
export async function workerCall<T = unknown>(path: string, body: unknown): Promise<JsonResponse<T>> {
  const { apiUrl, workerKey } = await testConfig();
  const response = await fetch(`${apiUrl}/worker${path}`, {
    method: 'POST',
    headers: { Authorization: `Bearer ${workerKey}`, 'Content-Type': 'application/json' },
    body: JSON.stringify(body),
  });
  return { status: response.status, json: (await readJson(response)) as T };
}

/** How many change streams the server holds open now (`/health` `.streams`). */
export async function streamCount(): Promise<number> {
  const { apiUrl } = await testConfig();
  const json = await getJson(`${apiUrl}/health`);
  if (!isRecord(json) || typeof json.streams !== 'number') {
    throw new Error(`${apiUrl}/health: no stream count in ${JSON.stringify(json)}`);
  }
  return json.streams;
}

/**
 * Waits until the server holds no more than `count` streams. Browser tests call it after each test:
 * a stream left open keeps one of the browser's six connections to the server busy, which starves the
 * next tests (or test files) of connections.
 */
export async function streamsClosed(count = 0, ms = 8000): Promise<void> {
  const deadline = Date.now() + ms;
  for (;;) {
    const open = await streamCount();
    if (open <= count) return;
    if (Date.now() > deadline)
      throw new Error(`${open} streams still open after ${ms} ms (expected ≤ ${count})`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** Waits until the server's open streams stay at one count for a moment, and answers that count. */
export async function settledStreams(): Promise<number> {
  let last = -1;
  for (let i = 0; i < 40; i++) {
    const now = await streamCount();
    if (now === last) return now;
    last = now;
    await new Promise((resolve) => setTimeout(resolve, 300));
  }
  return last;
}
