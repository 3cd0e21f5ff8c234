import type { ServerResponse } from 'node:http';

/** The CORS settings of the app, as its `cors()` middleware applies them to a GET or POST. */
export interface CorsAnswer {
  /** The `Access-Control-Allow-Origin` for a request's `Origin` (empty when it has none), or null for none. */
  origin: (origin: string) => string | null;
  exposeHeaders: readonly string[];
  credentials: boolean;
}

/**
 * The headers (lower-case names) that the `cors()` middleware adds to an answer that is not a preflight,
 * and whether it adds `Origin` to `Vary` (it does for any origin setting but `'*'`: ours is a function).
 */
export function corsHeaders(cors: CorsAnswer, origin: string | undefined): [string, string][] {
  const headers: [string, string][] = [];
  const allowed = cors.origin(origin ?? '');
  if (cors.credentials) headers.push(['access-control-allow-credentials', 'true']);
  if (allowed) headers.push(['access-control-allow-origin', allowed]);
  if (cors.exposeHeaders.length > 0)
    headers.push(['access-control-expose-headers', cors.exposeHeaders.join(',')]);
  return headers;
}

/**
 * Writes a JSON answer as the app's `c.json()` reaches the wire through `@hono/node-server`, whose
 * three paths put the headers differently: a lone `Content-Type` as given, with node's own
 * `Content-Length` after `Connection`; headers set before (an error's) as a web `Headers` lists them
 * (sorted, lower case), then `Content-Length`; and after the CORS middleware, the same with
 * `content-length` in lower case.
 */
export function writeJson(
  response: ServerResponse,
  status: number,
  json: string,
  headers: Record<string, string>,
  cors: CorsAnswer | null,
  origin: string | undefined,
): void {
  const added = Object.entries(headers);
  if (!cors && added.length === 0) {
    response.statusCode = status;
    response.setHeader('Content-Type', 'application/json');
    response.end(json);
    return;
  }
  const named: [string, string][] = cors ? corsHeaders(cors, origin) : [];
  named.push(['content-type', 'application/json']);
  for (const [name, value] of added) named.push([name.toLowerCase(), value]);
  if (cors) named.push(['vary', 'Origin']);
  named.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
  const head: string[] = [];
  for (const [name, value] of named) head.push(name, value);
  head.push(cors ? 'content-length' : 'Content-Length', String(Buffer.byteLength(json)));
  response.writeHead(status, head);
  response.end(json);
}
