/**
 * The values of the `wanted` headers (lower-case names) of a request, from node's raw headers; null
 * when one of them is repeated (node and the adapter would each join or drop repeats their own way).
 */
export function uniqueHeaders<const N extends string>(
  raw: readonly string[],
  wanted: ReadonlySet<N>,
): Partial<Record<N, string>> | null {
  const found: Partial<Record<N, string>> = {};
  for (let i = 0; i < raw.length; i += 2) {
    const name = (raw[i] as string).toLowerCase() as N;
    if (!wanted.has(name)) continue;
    if (found[name] !== undefined) return null;
    found[name] = raw[i + 1] as string;
  }
  return found;
}

// What `@hono/node-server` takes as a request's URL without rebuilding it (its `buildUrl`): for a
// request outside these, Hono may see a normalised URL, so it is left to Hono.
const PLAIN_HOST = /^[a-z0-9._-]+(?::(?:[1-5]\d{3,4}|[6-9]\d{3}))?$/;
const PLAIN_TARGET = /^\/[!#$&-;=?-[\]_a-z~]*$/;
const DOT_SEGMENT = /\/\.\.?(?:[/?#]|$)/;

/** Whether Hono would see this request's URL as `http://<host><url>`, exactly as sent. */
export const isPlainRequest = (url: string, host: string | undefined): host is string =>
  host !== undefined && PLAIN_HOST.test(host) && PLAIN_TARGET.test(url) && !DOT_SEGMENT.test(url);
