// Issue 13, point 5: a long-lived token keeps its stream open until it expires; HEAD and wrong methods
// get a proper answer.

import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { Agent, request as httpRequest } from 'node:http';
import { describe, it } from 'node:test';
import { SseReader } from '@jobtracker/test-support/server';
import { SECRET } from '../server.js';
import { asUser, asWorker, send, token, useHostileServer } from './fixture.js';

describe('hostile and unusual input: tokens and methods', () => {
  const hostile = useHostileServer();

  describe('token lifetimes', () => {
    it('keeps the stream of a token valid for 40 days open, with no TimeoutOverflowWarning', async () => {
      const warnings: Error[] = [];
      const onWarning = (warning: Error) => warnings.push(warning);
      process.on('warning', onWarning);
      const controller = new AbortController();
      try {
        // 40 days, and up to the last minute of the year 9999.
        const lifetimes = [40 * 86_400, 253402300799 - Math.floor(Date.now() / 1000) - 60];
        await Promise.all(
          lifetimes.map(async (expiresInSeconds) => {
            const response = await fetch(`${hostile.base}/api/jobs/stream`, {
              headers: { Authorization: `Bearer ${token('long-lived', expiresInSeconds)}` },
              signal: controller.signal,
            });
            assert.equal(response.status, 200, `the stream opens (${expiresInSeconds} s token)`);
            const reader = new SseReader(response);
            await reader.until(() => reader.ready.length > 0, 5000, 'the stream to be live');
            // The overflowed timer fired after 1 ms; three heartbeats later the stream must still be open.
            await reader.until(
              () => reader.comments.filter((c) => c === 'heartbeat').length >= 3,
              10_000,
              'heartbeats',
            );
            assert.equal(reader.ended, false, `the stream of a ${expiresInSeconds} s token is still open`);
          }),
        );
        assert.deepEqual(
          warnings.map((warning) => warning.name),
          [],
          'no process warning (TimeoutOverflowWarning) was emitted',
        );
      } finally {
        controller.abort();
        process.off('warning', onWarning);
      }
    });

    it('refuses a token whose exp is infinite or beyond the year 9999 with 401 invalid_token', async () => {
      const b64 = (text: string) => Buffer.from(text).toString('base64url');
      const forge = (claims: string) => {
        const head = `${b64('{"alg":"HS256","typ":"JWT"}')}.${b64(claims)}`;
        return `${head}.${createHmac('sha256', SECRET).update(head).digest('base64url')}`;
      };
      for (const exp of ['1e400', '253402300800', '1e300']) {
        const forged = forge(`{"sub":"absurd","exp":${exp}}`);
        for (const path of ['/api/jobs', '/api/jobs/stream']) {
          const answer = await send(`${hostile.base}${path}`, {
            headers: { Authorization: `Bearer ${forged}` },
          });
          assert.equal(answer.status, 401, `exp ${exp} on ${path}: ${answer.text.slice(0, 200)}`);
          assert.equal(answer.body.error.code, 'invalid_token', `exp ${exp} on ${path}: code`);
          assert.match(answer.body.error.message, /exp/, `exp ${exp}: the message names the claim`);
        }
      }
    });
  });

  describe('methods', () => {
    it('answers HEAD /api/jobs/stream with the headers and holds no stream', async () => {
      const agent = new Agent({ keepAlive: true, maxSockets: 1 });
      const call = (method: string, path: string, headers: Record<string, string> = {}) =>
        new Promise<{ status: number; headers: Record<string, unknown>; body: string }>((resolve, reject) => {
          const req = httpRequest(
            `${hostile.base}${path}`,
            { method, headers, agent, timeout: 5000 },
            (res) => {
              let body = '';
              res.setEncoding('utf8');
              res.on('data', (chunk) => {
                body += chunk;
              });
              res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
            },
          );
          req.on('timeout', () => req.destroy(new Error(`${method} ${path} did not answer within 5 s`)));
          req.on('error', reject);
          req.end();
        });
      try {
        const head = await call('HEAD', '/api/jobs/stream', asUser('head'));
        assert.equal(head.status, 200, 'HEAD answers like GET');
        assert.match(String(head.headers['content-type']), /^text\/event-stream/, 'with the stream’s type');
        assert.equal(head.body, '', 'and no body');
        const health = await call('GET', '/api/health');
        assert.equal(health.status, 200, 'the same connection answers the next request');
        assert.equal(JSON.parse(health.body).streams, 0, 'HEAD took no stream slot');
        assert.equal(hostile.server.tracker.streams.connections.size, 0, 'the registry holds no stream');
        const refused = await call('HEAD', '/api/jobs/stream');
        assert.equal(refused.status, 401, 'HEAD without a token is refused like GET');
      } finally {
        agent.destroy();
      }
    });

    it('answers a known route with a wrong method 405 with Allow, and an unknown path 404', async () => {
      const cases: [method: string, path: string, allowed: string[]][] = [
        ['PUT', '/api/jobs', ['GET', 'HEAD', 'POST']],
        ['DELETE', '/api/jobs/01m8k0x60974smd8gnmwwmw588', ['GET', 'HEAD']],
        ['POST', '/api/jobs/stream', ['GET', 'HEAD']],
        ['GET', '/api/worker/claim', ['POST']],
        ['PATCH', '/api/worker/jobs/01m8k0x60974smd8gnmwwmw588/complete', ['POST']],
        ['POST', '/api/health', ['GET', 'HEAD']],
        ['POST', '/extra-page', ['GET', 'HEAD']],
      ];
      for (const [method, path, allowed] of cases) {
        const headers = path.startsWith('/api/worker/') ? asWorker : asUser('methods');
        const answer = await send(`${hostile.base}${path}`, { method, headers });
        assert.equal(answer.status, 405, `${method} ${path}: ${answer.text.slice(0, 200)}`);
        assert.deepEqual(
          (answer.headers.get('allow') ?? '').split(/,\s*/).sort(),
          allowed,
          `${method} ${path}: Allow`,
        );
        assert.equal(answer.body.error.code, 'method_not_allowed', `${method} ${path}: code`);
        assert.match(answer.body.error.message, new RegExp(allowed.join('|')), `${method} ${path}: message`);
      }
      for (const [method, path] of [
        ['GET', '/api/nope'],
        ['POST', '/api/jobs/01m8k0x60974smd8gnmwwmw588/nope'],
        ['GET', '/nowhere'],
      ] as const) {
        const answer = await send(`${hostile.base}${path}`, { method, headers: asUser('methods') });
        assert.equal(answer.status, 404, `${method} ${path} is unknown`);
        assert.equal(answer.body.error.code, 'not_found', `${method} ${path}: code`);
      }
    });
  });
});
