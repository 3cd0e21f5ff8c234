import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import SwaggerParser from '@apidevtools/swagger-parser';
import { MAX_POLL_WAIT_MS } from '@jobtracker/sdk/wire';
import { openTestTracker, tokenFor, WORKER_KEY } from '@jobtracker/test-support/server';
import { Ajv2020 } from 'ajv/dist/2020.js';
import fc from 'fast-check';
import type { JobTracker } from '../app/tracker.js';
import { arbitraryFromSchema, type JsonSchema } from '../testing/json-schema-arbitrary.js';

interface Parameter {
  name: string;
  in: 'path' | 'query' | 'header';
  required?: boolean;
  schema: JsonSchema;
}

interface Operation {
  parameters?: Parameter[];
  requestBody?: { content: Record<string, { schema: JsonSchema }> };
  security?: Record<string, unknown>[];
}

interface Document {
  openapi: string;
  paths: Record<string, Record<string, Operation>>;
  components: { schemas?: Record<string, JsonSchema> };
}

const RUNS = process.env.JOBTRACKER_RELIABILITY_FULL === '1' ? 300 : 25;

/** Resolves a local JSON pointer (`#/a/b~1c`) in `root`, or undefined. */
function resolvePointer(root: unknown, ref: string): unknown {
  if (!ref.startsWith('#')) return undefined;
  let node: unknown = root;
  for (const raw of ref.slice(1).split('/').slice(1)) {
    const key = decodeURIComponent(raw).replaceAll('~1', '/').replaceAll('~0', '~');
    if (node === null || typeof node !== 'object' || !Object.hasOwn(node, key)) return undefined;
    node = (node as Record<string, unknown>)[key];
  }
  return node;
}

function collectRefs(node: unknown, found: string[] = []): string[] {
  if (Array.isArray(node)) for (const item of node) collectRefs(item, found);
  else if (node !== null && typeof node === 'object') {
    for (const [key, value] of Object.entries(node)) {
      if (key === '$ref' && typeof value === 'string') found.push(value);
      else collectRefs(value, found);
    }
  }
  return found;
}

const operationsOf = (doc: Document) =>
  Object.entries(doc.paths).flatMap(([path, methods]) =>
    Object.entries(methods).map(([method, operation]) => ({ path, method, operation })),
  );

/** `GET /api/jobs/{id}` for every route the Hono app answers (its middleware, method ALL, left out). */
function answeredRoutes(app: JobTracker['app']) {
  const keys = app.routes
    .filter((route) => route.method !== 'ALL' && !route.path.endsWith('*'))
    .map((route) => `${route.method} ${route.path.replace(/:(\w+)/g, '{$1}')}`);
  return [...new Set(keys)].sort();
}

describe('the OpenAPI document', () => {
  let tracker: JobTracker;
  let doc: Document;
  const alice = tokenFor('alice');
  const resolve = (ref: string) => {
    const target = resolvePointer(doc, ref);
    if (target === undefined) throw new Error(`Dangling $ref ${ref}`);
    return target as JsonSchema;
  };

  /** Sends a request the way a generated client would: parameters serialized, the body as JSON. */
  async function send(
    path: string,
    method: string,
    operation: Operation,
    values: Record<string, unknown>,
    body: unknown,
    user = alice,
  ) {
    const query = new URLSearchParams();
    const headers: Record<string, string> = {};
    let url = path;
    for (const parameter of operation.parameters ?? []) {
      const value = values[`${parameter.in}:${parameter.name}`];
      if (value === undefined) continue;
      if (parameter.in === 'path')
        url = url.replace(`{${parameter.name}}`, encodeURIComponent(String(value)));
      else if (parameter.in === 'query') query.set(parameter.name, String(value));
      else headers[parameter.name] = String(value);
    }
    const scheme = JSON.stringify(operation.security ?? []);
    if (scheme.includes('workerKey')) headers.Authorization = `Bearer ${WORKER_KEY}`;
    else if (scheme.includes('userToken')) headers.Authorization = `Bearer ${user}`;
    if (body !== undefined) headers['Content-Type'] = 'application/json';
    // A claim may wait for a job and a stream stays open: neither needs more than its status here.
    const stop = new AbortController();
    const timer = setTimeout(() => stop.abort(), 100);
    try {
      const response = await tracker.app.request(`${url}${query.size > 0 ? `?${query}` : ''}`, {
        method: method.toUpperCase(),
        headers,
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: stop.signal,
      });
      if (response.headers.get('content-type')?.startsWith('text/event-stream')) {
        stop.abort();
        await response.body?.cancel();
        return { status: response.status, json: null };
      }
      const text = await response.text();
      return { status: response.status, json: text ? JSON.parse(text) : null };
    } finally {
      clearTimeout(timer);
    }
  }

  /** Arbitrary values for an operation's documented parameters and body. */
  function requestArbitrary(operation: Operation) {
    const parameters: Record<string, fc.Arbitrary<unknown>> = {};
    for (const parameter of operation.parameters ?? []) {
      let value = arbitraryFromSchema(parameter.schema, { resolve });
      // HTTP trims a field value and carries only visible ASCII in it (the generator's default).
      if (parameter.in === 'header') value = value.filter((v) => String(v) === String(v).trim());
      parameters[`${parameter.in}:${parameter.name}`] = parameter.required
        ? value
        : fc.option(value, { nil: undefined });
    }
    const bodySchema = operation.requestBody?.content['application/json']?.schema;
    return fc.record({
      values: fc.record(parameters),
      body: bodySchema
        ? arbitraryFromSchema(bodySchema, { resolve, unit: 'grapheme' })
        : fc.constant(undefined),
    });
  }

  before(async () => {
    tracker = await openTestTracker({ heartbeatMs: 60_000 });
    const response = await tracker.app.request('/api/openapi.json');
    assert.equal(response.status, 200, 'the document is served');
    doc = (await response.json()) as Document;
  });
  after(() => tracker.close());

  it('is valid OpenAPI 3.1, and every $ref in it resolves', async () => {
    assert.equal(doc.openapi, '3.1.0', 'OpenAPI 3.1');
    const dangling = [...new Set(collectRefs(doc))].filter((ref) => resolvePointer(doc, ref) === undefined);
    assert.deepEqual(dangling, [], 'no $ref points at nothing');
    await assert.doesNotReject(
      SwaggerParser.validate(structuredClone(doc) as never),
      'the document passes an OpenAPI 3.1 validator',
    );
  });

  it('documents exactly the routes the app answers, and each documented one answers', async () => {
    const documented = operationsOf(doc)
      .map(({ path, method }) => `${method.toUpperCase()} ${path}`)
      .sort();
    assert.deepEqual(documented, answeredRoutes(tracker.app), 'the documented and the answered routes');

    const created = await tracker.app.request('/api/jobs', {
      method: 'POST',
      headers: { Authorization: `Bearer ${alice}`, 'Content-Type': 'application/json' },
      body: JSON.stringify({ type: 'openapi.answered' }),
    });
    const { job } = (await created.json()) as { job: { id: string } };
    for (const { path, method, operation } of operationsOf(doc)) {
      const [sample] = fc.sample(requestArbitrary(operation), { numRuns: 1, seed: 7 });
      assert.ok(sample, 'a sample request');
      const values = { ...sample.values, 'path:id': job.id };
      const response = await send(path, method, operation, values, sample.body);
      assert.notEqual(response.status, 404, `${method} ${path} answers: ${JSON.stringify(response.json)}`);
    }
  });

  it('describes requests the server accepts: generated from the document, none is refused as invalid', async () => {
    let checked = 0;
    for (const { path, method, operation } of operationsOf(doc)) {
      await fc.assert(
        fc.asyncProperty(requestArbitrary(operation), async ({ values, body }) => {
          // A user of its own per request: what one request left (an Idempotency-Key used with another
          // body, a rate limit) is not the next one's concern.
          const user = tokenFor(`openapi-${checked}`);
          const response = await send(path, method, operation, values, body, user);
          const code: unknown = response.json?.error?.code;
          // The documented conflicts between valid parameters (see the operation's description): `since`
          // with `status`, `wait` without `since`; and a `before` that no page gave as its `next`.
          const given = (name: string) => values[`query:${name}`] !== undefined;
          const conflict =
            code === 'invalid_query' &&
            ((given('since') && given('status')) || (given('wait') && !given('since')) || given('before'));
          assert.ok(
            response.status !== 422 && response.status < 500 && (response.status !== 400 || conflict),
            `${method.toUpperCase()} ${path} ${JSON.stringify({ values, body })?.slice(0, 300)} → ` +
              `${response.status} ${JSON.stringify(response.json)?.slice(0, 300)}`,
          );
          checked++;
        }),
        { numRuns: RUNS },
      );
    }
    assert.ok(checked >= RUNS * 10, `${checked} requests checked`);
  });

  it('documents as refused what the server refuses: limit=0, status=, wait over its maximum, Last-Event-ID: abc, an empty Idempotency-Key', async () => {
    const ajv = new Ajv2020({ strict: false, coerceTypes: true, validateFormats: false });
    const cases = [
      { path: '/api/jobs', method: 'get', in: 'query', name: 'limit', value: '0' },
      { path: '/api/jobs', method: 'get', in: 'query', name: 'status', value: '' },
      { path: '/api/jobs', method: 'get', in: 'query', name: 'wait', value: String(MAX_POLL_WAIT_MS + 1) },
      { path: '/api/jobs/stream', method: 'get', in: 'header', name: 'Last-Event-ID', value: 'abc' },
      { path: '/api/jobs', method: 'post', in: 'header', name: 'Idempotency-Key', value: '' },
    ] as const;
    for (const refused of cases) {
      const operation = doc.paths[refused.path]?.[refused.method];
      assert.ok(operation, `${refused.method} ${refused.path} is documented`);
      const parameter = operation.parameters?.find(
        (candidate) => candidate.in === refused.in && candidate.name === refused.name,
      );
      assert.ok(parameter, `${refused.name} is documented on ${refused.path}`);
      const what = `${refused.name}: ${JSON.stringify(refused.value)}`;
      // A query or header value is text; coercion reads it as the documented type, as a client would write it.
      const documentedValid = ajv.validate(parameter.schema, refused.value);
      assert.equal(
        documentedValid,
        false,
        `the document refuses ${what} (schema ${JSON.stringify(parameter.schema)})`,
      );
      const response = await send(
        refused.path,
        refused.method,
        operation,
        { [`${refused.in}:${refused.name}`]: refused.value },
        refused.method === 'post' ? { type: 'openapi.refused' } : undefined,
      );
      assert.ok(
        response.status === 400 || response.status === 422,
        `the server refuses ${what}: ${response.status} ${JSON.stringify(response.json)}`,
      );
    }
  });
});
