import type { ServerResponse } from 'node:http';
import { getQueryParams, mergePath } from 'hono/utils/url';
import type { Authenticator } from '../auth/auth.js';
import { listJobsQuery } from '../http/schemas.js';
import { checkQuery } from '../http/validate.js';
import { filterTag } from '../routes/jobs.js';
import type { NodeAnswer } from './node-answer.js';
import { type CorsAnswer, corsHeaders } from './node-json.js';
import { isPlainRequest, uniqueHeaders } from './node-request.js';

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

const POLL_HEADERS = new Set(['authorization', 'if-none-match', 'origin', 'host'] as const);

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
    if (cors) for (const [name, value] of corsHeaders(cors, origin)) head.push(name, value);
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
    const headers = uniqueHeaders(request.rawHeaders, POLL_HEADERS);
    const ifNoneMatch = headers?.['if-none-match'];
    if (!ifNoneMatch || !isPlainRequest(url, headers.host)) return false;
    const caller = auth.knownUser(headers.authorization);
    if (!caller) return false;
    const tag = tagOf(url.slice(path.length + 1), `http://${headers.host}${url}`);
    if (tag === null) return false;
    return answer(response, caller.ownerId, tag, ifNoneMatch, headers.origin);
  };
}
