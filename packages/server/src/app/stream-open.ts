import { getQueryParams, mergePath } from 'hono/utils/url';
import type { Authenticator } from '../auth/auth.js';
import { lastEventIdHeader, streamQuery } from '../http/schemas.js';
import { checkQuery } from '../http/validate.js';
import type { StreamRegistry } from '../stream/sse.js';
import type { NodeAnswer } from './node-answer.js';
import { type CorsAnswer, corsHeaders } from './node-json.js';
import { isPlainRequest, uniqueHeaders } from './node-request.js';

export interface StreamOpenDeps {
  basePath: string;
  auth: Pick<Authenticator, 'knownUser'>;
  streams: Pick<StreamRegistry, 'openNode'>;
  /** The streams an owner holds open now. */
  subscriberCount: (ownerId: string) => number;
  maxStreamsPerUser: number;
  cors: CorsAnswer | null;
}

const OPEN_HEADERS = new Set(['authorization', 'last-event-id', 'origin', 'host'] as const);

/**
 * Where a stream resumes, as the route reads it: `Last-Event-ID` (empty: none) before `?since=`;
 * undefined for a snapshot, null when the route would refuse the query or the header.
 */
function resumeFrom(url: string, query: string, lastEventId: string | undefined): number | undefined | null {
  let since: number | undefined;
  if (query !== '') {
    try {
      since = checkQuery(getQueryParams(url) as Record<string, string[]>, streamQuery).since;
    } catch {
      return null;
    }
  }
  if (lastEventId === undefined) return since;
  const header = lastEventIdHeader.safeParse(lastEventId);
  if (!header.success) return null;
  return header.data ?? since;
}

/**
 * Opens a job stream (`GET <base>/jobs/stream`) straight from node's request, without Hono: for a
 * caller whose token tells its owner at once, under the per-user limit, with a query and
 * `Last-Event-ID` the route accepts. It is the stream the route opens (`StreamRegistry.openNode`), with
 * the headers the route and the CORS middleware give it; everything else (refusals included) is left
 * to the app.
 */
export function createStreamOpen({
  basePath,
  auth,
  streams,
  subscriberCount,
  maxStreamsPerUser,
  cors,
}: StreamOpenDeps): NodeAnswer {
  const path = mergePath(basePath, '/jobs/stream');
  const withQuery = `${path}?`;
  return (request, response) => {
    if (request.method !== 'GET') return false;
    const url = request.url ?? '';
    if (url !== path && !url.startsWith(withQuery)) return false;
    const headers = uniqueHeaders(request.rawHeaders, OPEN_HEADERS);
    if (!headers || !isPlainRequest(url, headers.host)) return false;
    const caller = auth.knownUser(headers.authorization);
    if (!caller || subscriberCount(caller.ownerId) >= maxStreamsPerUser) return false;
    const since = resumeFrom(
      `http://${headers.host}${url}`,
      url.slice(path.length + 1),
      headers['last-event-id'],
    );
    if (since === null) return false;
    const added: [string, string][] = cors ? [...corsHeaders(cors, headers.origin), ['vary', 'Origin']] : [];
    streams.openNode(caller, since, response, added);
    return true;
  };
}
