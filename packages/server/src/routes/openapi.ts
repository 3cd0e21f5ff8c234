import type { Handler, Hono } from 'hono';
import { z } from 'zod';
import { errorResponse } from '../http/schemas.js';
import { operation, operationOf, type Parameter } from './operation.js';

type JsonSchema = { [key: string]: unknown };
type Convert = ReturnType<typeof schemaConverter>['convert'];

export interface OpenApiOptions {
  /** Where the API is mounted, e.g. `/api`: the documented paths start with it. */
  basePath: string;
  version: string;
}

const ERRORS: Record<number, string> = {
  400: 'Malformed request (bad JSON, a repeated query parameter, conflicting parameters).',
  401: 'Missing or invalid credentials.',
  403: 'The worker API is closed: the server has no worker key.',
  404: 'No such route, or no such job for this caller.',
  409: "The change is not allowed in the job's state, or the lease is stale.",
  413: 'The body is too large.',
  415: 'The body is not JSON.',
  422: 'The request does not fit the schema; `details` names each bad field.',
  429: 'Too many new jobs or open streams for this user; see Retry-After.',
  503: 'The job database cannot be reached right now (`storage_unavailable`); see Retry-After.',
};

const SECURITY = { user: [{ userToken: [] }], worker: [{ workerKey: [] }], none: [] };

/**
 * Turns zod schemas into OpenAPI schemas whose named parts (`.meta({ id })`) live once under
 * `components/schemas`, so every `$ref` resolves within the document.
 */
function schemaConverter() {
  const components: Record<string, JsonSchema> = {};
  const toComponents = (node: unknown): unknown => {
    if (Array.isArray(node)) return node.map(toComponents);
    if (node === null || typeof node !== 'object') return node;
    return Object.fromEntries(
      Object.entries(node).map(([key, value]) => [
        key,
        key === '$ref' && typeof value === 'string'
          ? value.replace(/^#\/\$defs\//, '#/components/schemas/')
          : toComponents(value),
      ]),
    );
  };
  const convert = (schema: z.ZodType, io: 'input' | 'output'): JsonSchema => {
    const { $schema, $defs, ...json } = z.toJSONSchema(schema, { io, target: 'draft-2020-12' });
    for (const [id, definition] of Object.entries($defs ?? {})) {
      if (/^__schema\d+$/.test(id)) {
        throw new Error('A recursive schema has no name: give it one with .meta({ id }).');
      }
      const named = toComponents(definition) as JsonSchema;
      if (components[id] && JSON.stringify(components[id]) !== JSON.stringify(named)) {
        throw new Error(`Two different schemas are named "${id}".`);
      }
      components[id] = named;
    }
    return toComponents(json) as JsonSchema;
  };
  return { convert, components };
}

/** `getJobsById` for GET /jobs/:id. */
const operationId = (method: string, path: string) =>
  method.toLowerCase() +
  path
    .split('/')
    .filter(Boolean)
    .map((segment) => (segment.startsWith(':') ? `By-${segment.slice(1)}` : segment))
    .flatMap((segment) => segment.split(/[^A-Za-z0-9]+/))
    .filter(Boolean)
    .map((word) => word[0]?.toUpperCase() + word.slice(1))
    .join('');

function parametersOf(
  location: 'path' | 'header',
  parameters: Record<string, Parameter> | undefined,
  convert: Convert,
) {
  return Object.entries(parameters ?? {}).map(([name, parameter]) => {
    const { description, ...schema } = convert(parameter.schema, 'input');
    const required = location === 'path' || !parameter.schema.safeParse(undefined).success;
    return { name, in: location, required, ...(description ? { description } : {}), schema };
  });
}

function queryParameters(query: z.ZodObject | undefined, convert: Convert) {
  if (!query) return [];
  const json = convert(query, 'input') as { properties?: Record<string, JsonSchema>; required?: string[] };
  return Object.entries(json.properties ?? {}).map(([name, { description, ...schema }]) => ({
    name,
    in: 'query',
    required: json.required?.includes(name) ?? false,
    ...(description ? { description } : {}),
    schema,
  }));
}

/**
 * The OpenAPI 3.1 document of every route of `api` that an `operation()` describes, generated from the
 * schemas that validate its requests. Routes without a description (middleware) are left out.
 */
export function buildOpenApi(api: Hono, { basePath, version }: OpenApiOptions) {
  const { convert, components } = schemaConverter();
  const error = { content: { 'application/json': { schema: convert(errorResponse, 'output') } } };
  const paths: Record<string, Record<string, unknown>> = {};
  for (const route of api.routes) {
    const spec = operationOf(route.handler);
    if (!spec || route.method === 'ALL') continue;
    const answers = Object.fromEntries(
      Object.entries(spec.answers).map(([status, answer]) => {
        const type = answer.contentType ?? 'application/json';
        const schema = answer.schema
          ? convert(answer.schema, 'output')
          : answer.contentType && { type: 'string' };
        return [
          status,
          { description: answer.description, ...(schema ? { content: { [type]: { schema } } } : {}) },
        ];
      }),
    );
    const errors = [400, 404, 422, 503, ...(spec.errors ?? [])];
    if (spec.auth !== 'none') errors.push(401);
    if (spec.auth === 'worker') errors.push(403);
    if (spec.body) errors.push(413, 415);
    const path = `${basePath.replace(/\/$/, '')}${route.path.replace(/:(\w+)/g, '{$1}')}`;
    paths[path] ??= {};
    paths[path][route.method.toLowerCase()] = {
      operationId: operationId(route.method, route.path),
      summary: spec.summary,
      tags: [spec.tag],
      security: SECURITY[spec.auth],
      parameters: [
        ...parametersOf('path', spec.params, convert),
        ...queryParameters(spec.query, convert),
        ...parametersOf('header', spec.headers, convert),
      ],
      ...(spec.body
        ? {
            requestBody: {
              required: spec.bodyOptional !== true,
              content: { 'application/json': { schema: convert(spec.body, 'input') } },
            },
          }
        : {}),
      responses: {
        ...answers,
        ...Object.fromEntries(
          [...new Set(errors)]
            .sort((a, b) => a - b)
            .map((status) => [status, { description: ERRORS[status] ?? 'An error.', ...error }]),
        ),
      },
    };
  }
  return {
    openapi: '3.1.0',
    info: { title: 'jobtracker job API', version },
    paths,
    components: {
      securitySchemes: {
        userToken: {
          type: 'http',
          scheme: 'bearer',
          bearerFormat: 'JWT',
          description: 'HS256, `sub` = owner, `exp` required.',
        },
        workerKey: { type: 'http', scheme: 'bearer', description: 'JOBTRACKER_WORKER_KEY.' },
      },
      schemas: components,
    },
  };
}

/**
 * GET /openapi.json for `api`: the document of its routes, built on the first request, once every route
 * is registered.
 */
export function openApiRoute(api: Hono, options: OpenApiOptions): Handler {
  let document: ReturnType<typeof buildOpenApi> | undefined;
  return operation(
    {
      summary: 'This document: OpenAPI 3.1, generated from the schemas that validate requests.',
      tag: 'meta',
      auth: 'none',
      answers: { 200: { description: 'OpenAPI 3.1.' } },
    },
    (c) => {
      document ??= buildOpenApi(api, options);
      return c.json(document);
    },
  );
}
