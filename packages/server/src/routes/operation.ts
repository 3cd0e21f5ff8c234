import type { Context, Handler } from 'hono';
import { findTargetHandler } from 'hono/utils/handler';
import type { z } from 'zod';
import { type ApiError, notFound } from '../http/errors.js';
import { jobIdParam } from '../http/schemas.js';
import { check, readJson, readQuery } from '../http/validate.js';

/** A path parameter or a request header. */
export interface Parameter<S extends z.ZodType = z.ZodType> {
  /** Validates the raw text (undefined when absent) and documents it. */
  schema: S;
  /** The error a value outside the schema answers; by default 422 `invalid_request` naming the parameter. */
  refuse?: () => ApiError;
}

/** One answer of an operation that is not an error. */
export interface Answer {
  description: string;
  schema?: z.ZodType;
  /** Default `application/json` when there is a schema. */
  contentType?: string;
}

/**
 * What the OpenAPI document says about one route. The route's method and path are where the handler is
 * registered (`app.get('/jobs/:id', operation(...))`), so they are written once.
 */
export interface OperationSpec {
  summary: string;
  tag: 'jobs' | 'worker' | 'meta';
  /** Who may call it: a user's token, the worker key, or anyone. */
  auth: 'user' | 'worker' | 'none';
  params?: Record<string, Parameter>;
  query?: z.ZodObject;
  headers?: Record<string, Parameter>;
  body?: z.ZodType;
  /** The body may be left out (the handler then uses its defaults); it is still checked when sent. */
  bodyOptional?: boolean;
  answers: Record<number, Answer>;
  /** Error statuses particular to this route (such as 429); the common ones are documented for every route. */
  errors?: readonly number[];
}

type Output<S> = S extends z.ZodType ? z.output<S> : never;
type Names<P> = P extends Record<string, Parameter> ? keyof P & string : never;
type ParameterOutput<P, K> = P extends Record<string, Parameter> ? Output<P[K & keyof P]['schema']> : never;

/**
 * A request's inputs, each read and checked against the operation's schemas when the handler asks for
 * it, so the handler decides the order of refusals (401 before 404 before 422…).
 */
export interface OperationInput<S extends OperationSpec> {
  param<K extends Names<S['params']>>(name: K): ParameterOutput<S['params'], K>;
  header<K extends Names<S['headers']>>(name: K): ParameterOutput<S['headers'], K>;
  query(): Output<S['query']>;
  /** The JSON body: 413 over `maxBytes`, 415 when it is not JSON, 400 when it does not parse, 422 when it does not fit. */
  body(maxBytes: number): Promise<Output<S['body']>>;
}

/** A job id in the path; one that cannot name a job is a 404 like an unknown one. */
export const jobIdParams = { id: { schema: jobIdParam, refuse: () => notFound() } };

const OPERATION = Symbol('jobtracker.operation');

function readParameter(parameter: Parameter | undefined, name: string, raw: string | undefined) {
  if (!parameter) throw new Error(`"${name}" is not a parameter of this operation.`);
  if (parameter.refuse) {
    const parsed = parameter.schema.safeParse(raw);
    if (!parsed.success) throw parameter.refuse();
    return parsed.data;
  }
  return check(parameter.schema, raw, name);
}

/**
 * Describes a route where it is defined, and hands its handler the inputs checked against the same
 * schemas that the OpenAPI document shows.
 */
export function operation<const S extends OperationSpec>(
  spec: S,
  handler: (c: Context, input: OperationInput<S>) => Response | Promise<Response>,
): Handler {
  const queries = new ParsedQueries();
  const run: Handler = (c) =>
    handler(c, {
      param: (name) => readParameter(spec.params?.[name], name, c.req.param(name)),
      header: (name) => readParameter(spec.headers?.[name], name, c.req.header(name)),
      query: () => {
        if (!spec.query) throw new Error('This operation takes no query.');
        const { query } = spec;
        return queries.read(c.req.url, () => readQuery(c, query));
      },
      body: (maxBytes) => {
        if (!spec.body) throw new Error('This operation takes no body.');
        return readJson(c, spec.body, maxBytes);
      },
    } as OperationInput<S>);
  return Object.assign(run, { [OPERATION]: spec });
}

/** How many distinct query strings an operation keeps parsed. */
const PARSED_QUERIES = 256;

/**
 * An operation's checked queries by their raw text: a polling client sends the same query every time,
 * so it is parsed once. The parsed query is frozen and shared; a refused one is not kept.
 */
class ParsedQueries {
  readonly #byText = new Map<string, unknown>();

  read(url: string, parse: () => unknown): unknown {
    const mark = url.indexOf('?');
    const text = mark === -1 ? '' : url.slice(mark + 1);
    const known = this.#byText.get(text);
    if (known !== undefined) return known;
    const parsed = Object.freeze(parse());
    if (this.#byText.size >= PARSED_QUERIES) this.#byText.clear();
    this.#byText.set(text, parsed);
    return parsed;
  }
}

/** The operation a registered handler describes, if it describes one (middleware does not). */
export function operationOf(handler: Handler | unknown): OperationSpec | undefined {
  if (typeof handler !== 'function') return undefined;
  const target = findTargetHandler(handler as Handler) as { [OPERATION]?: OperationSpec };
  return target[OPERATION];
}
