import type { ServerResponse } from 'node:http';
import { getQueryParams, mergePath } from 'hono/utils/url';
import type { Authenticator } from '../auth/auth.js';
import { listJobsQuery } from '../http/schemas.js';
import { checkQuery } from '../http/validate.js';
import { filterTag } from '../routes/jobs.js';
import type { NodeAnswer } from './node-answer.js';

/** The CORS settings of the app, as its `cors()` middleware applies them to a GET. */
export interface CorsAnswer {
  /** The `Access-Control-Allow-Origin` for a request's `Origin` (empty when it has none), or null for none. */
  origin: (origin: string) => string | null;
  exposeHeaders: readonly string[];
  credentials: boolean;
}

export interface ConditionalPollDeps {
  basePath: string;
  auth: Pick<Authenticator, 'knownUser'>;
  /** The owner's newest cursor: what the list route's ETag names. */
  ownerCursor: (ownerId: string) => Promise<number>;
  /** The app's CORS settings, or null when it has none. */
  cors: CorsAnswer | null;
}

/**
 * The parameters a poll answered here may carry: those the list route's ETag covers. Any other (one
 * the route learns later, such as a held poll's wait) leaves the request to the route.
 */
const ANSWERED_PARAMETERS = new Set(['status', 'type', 'scope', 'limit', 'since']);

/** How many distinct query strings keep their filter tag (as the route's own parsed-query cache). */
const KNOWN_QUERIES = 256;

// What `@hono/node-server` takes as a request's URL without rebuilding it (its `buildUrl`): a request
// outside these goes to Hono, which may normalise the URL, so that both read the same query text.
const PLAIN_HOST = /^[a-z0-9._-]+(?::(?:[1-5]\d{3,4}|[6-9]\d{3}))?$/;
const PLAIN_TARGET = /^\/[!#$&-;=?-[\]_a-z~]*$/;
const DOT_SEGMENT = /\/\.\.?(?:[/?#]|$)/;

/** The request headers a conditional poll's answer depends on; null when one of them is repeated. */
function pollHeaders(raw: readonly string[]) {
  let authorization: string | undefined;
  let ifNoneMatch: string | undefined;
  let origin: string | undefined;
  let host: string | undefined;
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i] as string;
    const value = raw[i + 1] as string;
    if (name.length === 13) {
      const lower = name.toLowerCase();
      if (lower === 'authorization') {
        if (authorization !== undefined) return null;
        authorization = value;
      } else if (lower === 'if-none-match') {
        if (ifNoneMatch !== undefined) return null;
        ifNoneMatch = value;
      }
    } else if (name.length === 6 && name.toLowerCase() === 'origin') {
      if (origin !== undefined) return null;
      origin = value;
    } else if (name.length === 4 && name.toLowerCase() === 'host') {
      if (host !== undefined) return null;
      host = value;
    }
  }
  return { authorization, ifNoneMatch, origin, host };
}

/**
 * The hottest request of the API, answered straight from node's request without Hono: a conditional
 * `GET <base>/jobs` (`If-None-Match`) whose ETag still names the owner's newest change, from a caller
 * whose token was verified before. It is answered 304 with the headers the route and the CORS
 * middleware give it, byte for byte. Anything else (another route, a new, bad or expired token, a query
 * the route would refuse, a changed ETag, a repeated header, a URL the adapter would rewrite) is left to
 * the app, which answers it as it always does.
 */
export function createConditionalPoll({
  basePath,
  auth,
  ownerCursor,
  cors,
}: ConditionalPollDeps): NodeAnswer {
  const path = mergePath(basePath, '/jobs');
  const withQuery = `${path}?`;
  /** Query text → the route's filter tag for it, or null when the route must answer it. */
  const tags = new Map<string, string | null>();

  const tagOf = (query: string, url: string): string | null => {
    const known = tags.get(query);
    if (known !== undefined) return known;
    let tag: string | null = null;
    try {
      const parameters = getQueryParams(url) as Record<string, string[]>;
      if (Object.keys(parameters).every((name) => ANSWERED_PARAMETERS.has(name))) {
        const parsed = Object.freeze(checkQuery(parameters, listJobsQuery));
        // The route refuses `since` with `status` (400): it answers that itself.
        if (parsed.since === undefined || parsed.status === undefined) tag = filterTag(parsed);
      }
    } catch {
      // A query the route refuses: it answers with the refusal.
    }
    if (tags.size >= KNOWN_QUERIES) tags.clear();
    tags.set(query, tag);
    return tag;
  };

  const answer = async (
    response: ServerResponse,
    ownerId: string,
    tag: string,
    ifNoneMatch: string,
    origin: string | undefined,
  ): Promise<boolean> => {
    const etag = `"${await ownerCursor(ownerId)}-${tag}"`;
    if (ifNoneMatch !== etag || response.headersSent) return false;
    // The order and case in which the adapter writes the route's headers: a web Headers' sorted names.
    const head: string[] = [];
    if (cors) {
      const allowed = cors.origin(origin ?? '');
      if (cors.credentials) head.push('access-control-allow-credentials', 'true');
      if (allowed) head.push('access-control-allow-origin', allowed);
      if (cors.exposeHeaders.length > 0)
        head.push('access-control-expose-headers', cors.exposeHeaders.join(','));
    }
    head.push(
      'cache-control',
      'private, no-cache',
      'etag',
      etag,
      'vary',
      cors ? 'Authorization, Origin' : 'Authorization',
    );
    response.writeHead(304, head);
    response.end();
    return true;
  };

  return (request, response) => {
    if (request.method !== 'GET') return false;
    const url = request.url ?? '';
    if (url !== path && !url.startsWith(withQuery)) return false;
    const headers = pollHeaders(request.rawHeaders);
    if (!headers?.ifNoneMatch || !headers.host) return false;
    if (!PLAIN_HOST.test(headers.host) || !PLAIN_TARGET.test(url) || DOT_SEGMENT.test(url)) return false;
    const caller = auth.knownUser(headers.authorization);
    if (!caller) return false;
    const tag = tagOf(url.slice(path.length + 1), `http://${headers.host}${url}`);
    if (tag === null) return false;
    return answer(response, caller.ownerId, tag, headers.ifNoneMatch, headers.origin);
  };
}
