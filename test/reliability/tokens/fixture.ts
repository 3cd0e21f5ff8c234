import assert from 'node:assert/strict';
import { createHmac, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Job } from '@jobtracker/sdk';
import { type RunningServer, signToken, startServer } from '@jobtracker/server';

// What the token tests share: a server with one job whose title carries a marker, requests with a raw
// `Authorization` header, and JWTs forged with any header, claims and signature.

export const SECRET = randomBytes(32).toString('hex');
export const WORKER_KEY = randomBytes(16).toString('hex');
export const USER = `user-${randomBytes(4).toString('hex')}`;
const MARK = `tmark${randomBytes(5).toString('hex')}`;

export const b64 = (value: unknown) =>
  Buffer.from(typeof value === 'string' ? value : JSON.stringify(value)).toString('base64url');
export const now = () => Math.floor(Date.now() / 1000);

/** A JWT with any header and claims, signed with HMAC (`hash`) under `secret`, or with `signature` as given. */
export function forge(
  header: unknown,
  claims: unknown,
  {
    secret = SECRET,
    hash = 'sha256',
    signature,
  }: { secret?: string; hash?: string; signature?: string } = {},
) {
  const head = `${b64(header)}.${b64(claims)}`;
  return `${head}.${signature ?? createHmac(hash, secret).update(head).digest('base64url')}`;
}
export const HS256 = { alg: 'HS256', typ: 'JWT' };
export const valid = () => ({ sub: USER, iat: now(), exp: now() + 3600 });

export interface Answer {
  status: number;
  contentType: string;
  wwwAuthenticate: string | null;
  text: string;
}

/** The server the token tests run against, with a job of `USER`'s. */
export interface TokensServer {
  server: RunningServer;
  /** A valid token of `USER`. */
  goodToken: string;
  /** `USER`'s job, created at start; its title carries the marker. */
  job: Job;
  /** A request with a raw `Authorization` header (or none), answered as text. */
  send(method: string, path: string, authorization: string | null, body?: unknown): Promise<Answer>;
  /** Checks a refusal: 401, a JSON error body with `code`, the Bearer challenge, no stack, no job data. */
  assertRefused(answer: Answer, code: string, what: string): void;
  close(): Promise<void>;
}

export async function startTokensServer(): Promise<TokensServer> {
  const dir = mkdtempSync(join(tmpdir(), 'jobtracker-tokens-'));
  const goodToken = signToken({ sub: USER, expiresInSeconds: 3600 }, SECRET);
  const server = await startServer({
    port: 0,
    db: `file:${join(dir, 'tokens.db')}`,
    secret: SECRET,
    workerKey: WORKER_KEY,
    heartbeatMs: 1000,
    retryMs: 200,
    onError: () => {},
  });
  const response = await fetch(`${server.url}/api/jobs`, {
    method: 'POST',
    headers: { Authorization: `Bearer ${goodToken}`, 'Content-Type': 'application/json' },
    body: JSON.stringify({ type: 'tok.setup', title: `${MARK} title` }),
  });
  assert.equal(response.status, 201);
  const job = ((await response.json()) as { job: Job }).job;

  async function send(
    method: string,
    path: string,
    authorization: string | null,
    body?: unknown,
  ): Promise<Answer> {
    const response = await fetch(`${server.url}${path}`, {
      method,
      headers: {
        ...(authorization === null ? {} : { Authorization: authorization }),
        ...(body === undefined ? {} : { 'Content-Type': 'application/json' }),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: AbortSignal.timeout(10_000),
    });
    return {
      status: response.status,
      contentType: response.headers.get('content-type') ?? '',
      wwwAuthenticate: response.headers.get('www-authenticate'),
      text: await response.text(),
    };
  }

  function assertRefused(answer: Answer, code: string, what: string) {
    assert.equal(answer.status, 401, `${what}: ${answer.text.slice(0, 200)}`);
    assert.match(answer.contentType, /^application\/json/, what);
    assert.equal(answer.wwwAuthenticate, 'Bearer', what);
    const body = JSON.parse(answer.text) as { error: { code: string; message: string } };
    assert.deepEqual(Object.keys(body), ['error'], what);
    assert.equal(body.error.code, code, what);
    assert.equal(typeof body.error.message, 'string', what);
    assert.ok(body.error.message.length > 0 && body.error.message.length < 200, what);
    assert.doesNotMatch(answer.text, /stack|\bat [\w.<]+ \(|\.[jt]s:\d+|node:internal|TokenError/, what);
    assert.equal(answer.text.includes(MARK) || answer.text.includes(job.id), false, `${what}: no job data`);
  }

  return {
    server,
    goodToken,
    job,
    send,
    assertRefused,
    async close() {
      await server.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
