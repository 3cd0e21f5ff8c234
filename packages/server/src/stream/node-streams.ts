import { ServerResponse } from 'node:http';
import type { Http2Bindings, HttpBindings } from '@hono/node-server';
import { RESPONSE_ALREADY_SENT } from '@hono/node-server/utils/response';
import { NODE_STREAMS, type NodeStreamOpeners } from './sse.js';

type Bindings = HttpBindings | Http2Bindings;
type Fetch = (request: Request, env: Bindings) => Response | Promise<Response>;

/**
 * Wraps a jobtracker app's `fetch` for `@hono/node-server`'s `serve()` so that job streams over HTTP/1.1
 * are written straight into node's response instead of through a web `ReadableStream` (several times
 * cheaper per open stream). Everything else, and the stream's headers (CORS included), still come from
 * the app. `startServer` does this already; use it when you serve the app yourself:
 * `serve({ fetch: withNodeStreams(app.fetch) })`.
 */
export function withNodeStreams(fetch: Fetch): Fetch {
  return async (request, env) => {
    const outgoing = env?.outgoing;
    if (!(outgoing instanceof ServerResponse)) return fetch(request, env);
    const openers: NodeStreamOpeners = new WeakMap();
    const withOpeners = Object.assign({ [NODE_STREAMS]: openers }, env);
    const response = await fetch(request, withOpeners);
    const open = openers.get(request);
    // A HEAD request gets the stream's headers and nothing else: no stream is opened for it.
    if (!open || request.method === 'HEAD') return response;
    open(outgoing, response.headers);
    return RESPONSE_ALREADY_SENT;
  };
}
