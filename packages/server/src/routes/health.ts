import type { Context, Handler } from 'hono';
import { healthResponse } from '../http/schemas.js';
import { operation } from './operation.js';

/** GET /health, described for the OpenAPI document: liveness and a few counters, for anyone. */
export const healthRoute = (handler: (c: Context) => Response | Promise<Response>): Handler =>
  operation(
    {
      summary: 'Liveness and a few counters.',
      tag: 'meta',
      auth: 'none',
      answers: { 200: { description: 'The server is up.', schema: healthResponse } },
    },
    handler,
  );
