import type { IncomingMessage } from 'node:http';
import { mergePath } from 'hono/utils/url';
import type { Authenticator } from '../auth/auth.js';
import { ApiError } from '../http/errors.js';
import { jsonNestsDeeperThan, MAX_JSON_DEPTH } from '../http/json-depth.js';
import { readProgressBatchBody, readProgressBody } from '../http/progress-body.js';
import { progressBatchBody, progressBody } from '../http/schemas.js';
import { BodyNotReceivedError, check, isJsonContentType } from '../http/validate.js';
import type { createEngineWorkerApi } from '../worker-api/engine-worker-api.js';
import type { ErrorAnswer } from './error-answer.js';
import type { NodeAnswer } from './node-answer.js';
import { type CorsAnswer, writeJson } from './node-json.js';
import { isPlainRequest, uniqueHeaders } from './node-request.js';

export interface WorkerWritesDeps {
  basePath: string;
  auth: Pick<Authenticator, 'knownWorker'>;
  api: Pick<ReturnType<typeof createEngineWorkerApi>, 'progress' | 'progressMany'>;
  maxBodyBytes: number;
  cors: CorsAnswer | null;
  /** How the app answers an error (its `onError`). */
  answerError: (error: unknown, method: string, path: string) => ErrorAnswer;
}

const WRITE_HEADERS = new Set([
  'authorization',
  'content-type',
  'content-length',
  'transfer-encoding',
  'origin',
  'host',
] as const);

const JOB_ID = /^[0-9a-z]{26}$/;

/** A body of `Content-Length` bytes as text, or a `BodyNotReceivedError` when the client went first. */
function readText(request: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.once('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    request.once('error', (error) => reject(new BodyNotReceivedError(error)));
    request.once('close', () => {
      if (!request.complete) reject(new BodyNotReceivedError(new Error('aborted')));
    });
  });
}

/** The JSON of a body, refused as the app's depth limit and `readJson` refuse it. */
function parseJson(text: string): unknown {
  if (jsonNestsDeeperThan(text, MAX_JSON_DEPTH)) {
    throw new ApiError(
      400,
      'json_too_deep',
      `The JSON body nests more than ${MAX_JSON_DEPTH} levels of arrays and objects.`,
    );
  }
  try {
    return JSON.parse(text);
  } catch {
    throw new ApiError(400, 'invalid_json', 'The request body is not valid JSON.');
  }
}

/**
 * The busiest writes of the worker API, answered straight from node's request without Hono: a
 * progress report (`POST <base>/worker/jobs/:id/progress`) and a batch of them (`POST
 * <base>/worker/progress`), with the worker key, a JSON body of a declared length within the limit.
 * Once it takes a request it answers it as the app would, refusals and errors included (the same
 * checks in the same order, the same JSON, the same headers); anything else is left to the app.
 */
export function createWorkerWrites({
  basePath,
  auth,
  api,
  maxBodyBytes,
  cors,
  answerError,
}: WorkerWritesDeps): NodeAnswer {
  const jobs = `${mergePath(basePath, '/worker/jobs')}/`;
  const many = mergePath(basePath, '/worker/progress');
  const oneSuffix = '/progress';

  /** The job id of a single report's path, '' for the batch route, or null for neither. */
  const routeOf = (url: string): string | null => {
    if (url === many) return '';
    if (
      url.length !== jobs.length + 26 + oneSuffix.length ||
      !url.startsWith(jobs) ||
      !url.endsWith(oneSuffix)
    )
      return null;
    const id = url.slice(jobs.length, jobs.length + 26);
    return JOB_ID.test(id) ? id : null;
  };

  const serve = async (request: IncomingMessage, id: string): Promise<unknown> => {
    const value = parseJson(await readText(request));
    if (id === '') {
      const { updates } = readProgressBatchBody(value) ?? check(progressBatchBody, value, 'body');
      return { results: await api.progressMany(updates) };
    }
    const { leaseToken, ...update } = readProgressBody(value) ?? check(progressBody, value, 'body');
    return { job: await api.progress(id, leaseToken, update) };
  };

  return (request, response) => {
    if (request.method !== 'POST') return false;
    const url = request.url ?? '';
    const id = routeOf(url);
    if (id === null) return false;
    const headers = uniqueHeaders(request.rawHeaders, WRITE_HEADERS);
    if (!headers || headers['transfer-encoding'] !== undefined || !isPlainRequest(url, headers.host))
      return false;
    const length = headers['content-length'];
    if (length === undefined || !/^\d{1,10}$/.test(length) || Number(length) > maxBodyBytes) return false;
    if (!isJsonContentType(headers['content-type']) || !auth.knownWorker(headers.authorization)) return false;
    serve(request, id)
      .then(
        (answer) => writeJson(response, 200, JSON.stringify(answer), {}, cors, headers.origin),
        (error: unknown) => {
          const { status, headers: added, body } = answerError(error, 'POST', url);
          if (!response.headersSent)
            writeJson(response, status, JSON.stringify(body), added, cors, headers.origin);
        },
      )
      // Only a throwing onError gets here: the connection ends without an answer.
      .catch(() => response.destroy());
    return true;
  };
}
