// Issue 13, point 5: a client that hangs up mid-body is not a server error, and a real server error logs
// one line with a request id.

import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { describe, it } from 'node:test';
import type { Job } from '@jobtracker/sdk';
import { delay, eventually } from '@jobtracker/test-support/server';
import { startReliabilityServer, WORKER_KEY } from '../server.js';
import { asUser, captureLogs, json, send, token, useHostileServer } from './fixture.js';

describe('hostile and unusual input: errors and logs', () => {
  const hostile = useHostileServer();

  describe('errors and logs', () => {
    it('does not log a client that hangs up mid-body as a server error', async (t) => {
      const debugServer = await startReliabilityServer({ onError: undefined, logLevel: 'debug' });
      const logs = captureLogs(t);
      try {
        const job = await fetch(`${debugServer.url}/api/jobs`, {
          method: 'POST',
          headers: { ...asUser('abort'), ...json },
          body: JSON.stringify({ type: 'abort.job' }),
        }).then((response) => response.json() as Promise<{ job: Job }>);
        const heads = [
          `POST /api/jobs HTTP/1.1\r\nAuthorization: Bearer ${token('abort')}\r\nContent-Length: 2000\r\n`,
          `POST /api/worker/jobs/${job.job.id}/complete HTTP/1.1\r\nAuthorization: Bearer ${WORKER_KEY}\r\nTransfer-Encoding: chunked\r\n`,
        ];
        for (const head of heads) {
          const before = logs.length;
          const socket = connect(debugServer.port, '127.0.0.1');
          await new Promise((resolve) => socket.once('connect', resolve));
          socket.write(`${head}Host: 127.0.0.1\r\nContent-Type: application/json\r\n\r\n`);
          const half = `{"type":"abort.job","input":"${'x'.repeat(900)}`;
          socket.write(head.includes('chunked') ? `${(1000).toString(16)}\r\n${half}` : half);
          await delay(100);
          socket.destroy();
          await eventually(() => logs.length > before, 10_000, 'the server to notice the hang-up');
        }
        await delay(200);
        const notDebug = logs.filter((line) => line.level !== 'debug');
        assert.deepEqual(notDebug, [], 'nothing above debug level was logged');
        for (const line of logs) {
          assert.equal(line.text.includes('\n'), false, `a debug line is one line: ${line.text}`);
          assert.match(
            line.text,
            /abort|closed|hung up/i,
            `the debug line says the client left: ${line.text}`,
          );
        }
      } finally {
        await debugServer.close();
      }
    });

    it('logs a server error as one line with the request id that the client also gets, without a stack', async (t) => {
      const logs = captureLogs(t);
      const engine = hostile.server.tracker.engine;
      const original = engine.get;
      engine.get = async () => {
        throw new Error('database on fire\nsecond line of the message');
      };
      try {
        const answer = await send(`${hostile.base}/api/jobs/01m8k0x60974smd8gnmwwmw588`, {
          headers: asUser('boom'),
        });
        assert.equal(answer.status, 500, 'a server error');
        assert.deepEqual(
          Object.keys(answer.body.error).sort(),
          ['code', 'message', 'requestId'],
          'error body',
        );
        assert.equal(answer.body.error.code, 'internal_error', 'code');
        assert.doesNotMatch(answer.text, /fire/, 'the internal message stays on the server');
        const requestId = answer.headers.get('x-request-id');
        assert.ok(requestId && requestId.length >= 8, `an X-Request-Id header (${requestId})`);
        assert.equal(answer.body.error.requestId, requestId, 'the body quotes the same request id');
        assert.equal(logs.length, 1, `exactly one line logged: ${JSON.stringify(logs)}`);
        const [line] = logs;
        assert.equal(line?.level, 'error', 'at error level');
        assert.ok(line?.text.includes(requestId), `the line names the request id: ${line?.text}`);
        assert.match(line?.text ?? '', /database on fire/, 'the line says what failed');
        assert.equal(line?.text.includes('\n'), false, `one line: ${line?.text}`);
        assert.doesNotMatch(line?.text ?? '', /\bat .+:\d+:\d+/, 'no stack');
      } finally {
        engine.get = original;
      }
    });
  });
});
