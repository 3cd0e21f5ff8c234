import type { Context } from 'hono';
import type { z } from 'zod';
import { ApiError } from './errors.js';
import { LIMITS } from './schemas.js';

function describeIssues(error: z.ZodError) {
  return error.issues.slice(0, 20).map((issue) => ({
    path: issue.path.map(String).join('.'),
    message: issue.message,
  }));
}

/** Checks a value against a schema; a mismatch is a 422 that names each bad field. */
export function check<S extends z.ZodType>(schema: S, value: unknown, what: string): z.output<S> {
  const parsed = schema.safeParse(value);
  if (parsed.success) return parsed.data;
  const details = describeIssues(parsed.error);
  const first = details[0];
  const summary = first ? `${first.path || what}: ${first.message}` : 'is not valid';
  throw new ApiError(422, 'invalid_request', `Invalid ${what}: ${summary}`, details);
}

const tooLarge = (maxBytes: number) =>
  new ApiError(413, 'payload_too_large', `The body may be at most ${maxBytes} bytes.`);

/**
 * 413 as soon as a request declares a body over `maxBytes`, before anything reads it. Touches only the
 * header: reading `c.req.raw.body` here (as hono/body-limit does) would cost every request, GETs too,
 * the web-stream slow path of the node adapter.
 */
export function checkDeclaredLength(c: Context, maxBytes: number): void {
  const declared = c.req.header('content-length');
  if (declared !== undefined && Number(declared) > maxBytes) throw tooLarge(maxBytes);
}

/**
 * The body as text, at most `maxBytes` of it; chunked bodies (no Content-Length) are counted as they
 * arrive. Read once per request: later calls, and Hono's own `c.req.text()`/`c.req.json()`, get the same
 * text from the request's body cache.
 */
export function readBodyText(c: Context, maxBytes: number): Promise<string> {
  // Hono types the cache by what its methods resolve to; it holds their promises.
  const cache = c.req.bodyCache as { text?: Promise<string> };
  if (cache.text) return cache.text;
  checkDeclaredLength(c, maxBytes);
  const reading = c.req.header('content-length') !== undefined ? c.req.text() : readChunked(c, maxBytes);
  const text = reading.catch((error: unknown) => {
    throw error instanceof ApiError ? error : new BodyNotReceivedError(error);
  });
  cache.text = text;
  return text;
}

/** The client hung up (or the network failed) before its request body arrived: not a server error. */
export class BodyNotReceivedError extends ApiError {
  constructor(readonly reason: unknown) {
    super(400, 'body_not_received', 'The request body did not arrive completely.');
  }
}

async function readChunked(c: Context, maxBytes: number): Promise<string> {
  const body = c.req.raw.body;
  if (!body) return '';
  const chunks: Uint8Array[] = [];
  let size = 0;
  for await (const chunk of body) {
    size += chunk.byteLength;
    if (size > maxBytes) throw tooLarge(maxBytes);
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString('utf8');
}

/** Whether a Content-Type names JSON (`application/json`, `application/*+json`). */
export const isJsonContentType = (type: string | undefined): boolean =>
  /^application\/(?:[\w.+-]+\+)?json\b/i.test(type ?? '');

/**
 * Reads a JSON body: 413 over `maxBytes`, 415 when it is not JSON, 400 when it does not parse, 422 when
 * it does not fit.
 */
export async function readJson<S extends z.ZodType>(
  c: Context,
  schema: S,
  maxBytes: number = LIMITS.bodyBytes,
): Promise<z.output<S>> {
  if (!isJsonContentType(c.req.header('content-type'))) {
    throw new ApiError(415, 'unsupported_media_type', 'Send the body as application/json.');
  }
  const text = await readBodyText(c, maxBytes);
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new ApiError(400, 'invalid_json', 'The request body is not valid JSON.');
  }
  return check(schema, value, 'body');
}

/** Reads the query string; every parameter may appear once. */
export function readQuery<S extends z.ZodType>(c: Context, schema: S): z.output<S> {
  return checkQuery(c.req.queries(), schema);
}

/** Checks a query string's parameters (as Hono's `queries()` gives them): every one may appear once. */
export function checkQuery<S extends z.ZodType>(all: Record<string, string[]>, schema: S): z.output<S> {
  const query: Record<string, string> = {};
  for (const [name, values] of Object.entries(all)) {
    if (values.length > 1)
      throw new ApiError(400, 'invalid_query', `Query parameter "${name.slice(0, 40)}" is repeated.`);
    query[name] = values[0] ?? '';
  }
  return check(schema, query, 'query');
}
