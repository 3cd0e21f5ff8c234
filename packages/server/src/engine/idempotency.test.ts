import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ApiError } from '../http/errors.js';
import type { IdempotencyRecord } from '../storage/store.js';
import { jobRecord } from '../testing/job-records.js';
import { canonicalJson, hashRequest, IdempotentRequest } from './idempotency.js';

/** A key table of one row at most, as the store keeps it. */
function keyTable() {
  const rows = new Map<string, IdempotencyRecord>();
  return {
    rows,
    store: {
      getIdempotencyKey: async (ownerId: string, key: string) => rows.get(`${ownerId}/${key}`) ?? null,
    },
    tx: {
      insertIdempotencyKey: async (row: IdempotencyRecord) => {
        if (rows.has(`${row.ownerId}/${row.key}`)) return false;
        rows.set(`${row.ownerId}/${row.key}`, row);
        return true;
      },
    },
  };
}

describe('idempotency', () => {
  it('writes JSON canonically: keys sorted at every depth, undefined left out, arrays kept in order', () => {
    assert.equal(
      canonicalJson({ b: 1, a: { d: [3, { f: 1, e: 2 }], c: undefined } }),
      '{"a":{"d":[3,{"e":2,"f":1}]},"b":1}',
    );
    assert.equal(canonicalJson(undefined), 'null');
    assert.equal(hashRequest({ type: 'gen', scope: 'x' }), hashRequest({ scope: 'x', type: 'gen' }));
    assert.notEqual(hashRequest({ type: 'gen', scope: 'x' }), hashRequest({ type: 'gen', scope: 'y' }));
  });

  it('answers a repeat with the first request’s job, once the key is kept', async () => {
    const { store, tx, rows } = keyTable();
    const job = jobRecord({ id: 'j1' });
    const load = async (id: string) => (id === job.id ? job : null);
    const first = new IdempotentRequest('alice', 'k', { type: 'gen', input: { a: 1, b: 2 } });
    assert.equal(await first.earlierAnswer(store, load), null, 'nothing before the key is kept');
    assert.equal(await first.keep(tx, 'j1', 5000), true);
    assert.equal(await first.keep(tx, 'j2', 5001), false, 'a key is kept once');
    assert.deepEqual([rows.get('alice/k')?.jobId, rows.get('alice/k')?.createdAt], ['j1', 5000]);
    const repeat = new IdempotentRequest('alice', 'k', { input: { b: 2, a: 1 }, type: 'gen' });
    const answer = await repeat.earlierAnswer(store, load);
    assert.deepEqual([answer?.job.id, answer?.created, answer?.reason], ['j1', false, 'idempotency_key']);
    assert.equal(
      await new IdempotentRequest('bob', 'k', { type: 'gen', input: { a: 1, b: 2 } }).earlierAnswer(
        store,
        load,
      ),
      null,
      'keys are per owner',
    );
  });

  it('refuses the key with another body (422), and answers nothing when the key’s job is gone', async () => {
    const { store, tx } = keyTable();
    await new IdempotentRequest('alice', 'k', { type: 'gen' }).keep(tx, 'gone', 1);
    await assert.rejects(
      new IdempotentRequest('alice', 'k', { type: 'other' }).earlierAnswer(store, async () => null),
      (error) => error instanceof ApiError && error.status === 422 && error.code === 'idempotency_key_reused',
    );
    assert.equal(
      await new IdempotentRequest('alice', 'k', { type: 'gen' }).earlierAnswer(store, async () => null),
      null,
    );
  });
});
