import assert from 'node:assert/strict';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { describe, it } from 'node:test';
import { firstAnswer, type NodeAnswer, withNodeAnswer } from './node-answer.js';

const request = {} as IncomingMessage;
const response = (headersSent = false) => {
  const destroyed: boolean[] = [];
  return { headersSent, destroy: () => destroyed.push(true), destroyed } as unknown as ServerResponse & {
    destroyed: boolean[];
  };
};

/** Runs `answer` in front of a listener that counts what reached it. */
async function run(answer: NodeAnswer, res = response()) {
  let reached = 0;
  withNodeAnswer(answer, () => reached++)(request, res);
  await new Promise((resolve) => setTimeout(resolve, 0));
  return reached;
}

describe('answers given before the app', () => {
  it('leave to the app what they decline, at once or later', async () => {
    assert.equal(await run(() => false), 1);
    assert.equal(await run(async () => false), 1);
    assert.equal(await run(() => true), 0);
    assert.equal(await run(async () => true), 0);
  });

  it('leave to the app a request they failed on before writing, and end one they had begun', async () => {
    assert.equal(
      await run(() => {
        throw new Error('a bug');
      }),
      1,
      'a throw: the app answers',
    );
    assert.equal(await run(() => Promise.reject(new Error('a bug'))), 1, 'a rejection: the app answers');
    const begun = response(true);
    assert.equal(await run(() => Promise.reject(new Error('a bug')), begun), 0, 'no second answer');
    assert.deepEqual(begun.destroyed, [true], 'the connection ends');
  });

  it('are tried in order until one does not decline', async () => {
    const tried: string[] = [];
    const answer =
      (name: string, result: boolean): NodeAnswer =>
      () => {
        tried.push(name);
        return result;
      };
    assert.equal(
      firstAnswer(answer('a', false), answer('b', true), answer('c', true))(request, response()),
      true,
    );
    assert.deepEqual(tried, ['a', 'b']);
  });
});
