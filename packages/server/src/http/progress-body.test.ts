import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { MAX_LEASE_MS, MIN_LEASE_MS } from '@jobtracker/sdk/wire';
import fc from 'fast-check';
import { readProgressBatchBody, readProgressBody } from './progress-body.js';
import { LIMITS, progressBatchBody, progressBody } from './schemas.js';

/** Values at and around every bound the schemas set, and a few of the wrong type. */
const edgy = fc.oneof(
  fc.constantFrom(0, -0, 100, -1e-9, 100.0000001, 50.5, Infinity, -Infinity, NaN),
  fc.constantFrom(MIN_LEASE_MS, MIN_LEASE_MS - 1, MAX_LEASE_MS, MAX_LEASE_MS + 1, 1500.5, 2 ** 53, 60_000),
  fc.constantFrom(
    '',
    'x',
    'x'.repeat(100),
    'x'.repeat(101),
    'm'.repeat(LIMITS.messageLength),
    'm'.repeat(LIMITS.messageLength + 1),
  ),
  fc.constantFrom(null, undefined, true, [], {}, ['a'], { a: 1 }),
  fc.string({ maxLength: 3 }),
  fc.double(),
  fc.integer(),
);
const key = fc.constantFrom('leaseToken', 'progress', 'message', 'leaseMs', 'id', 'extra', '__proto__');
/** A valid value `weight` times as often as an edgy one. */
const mostly = <T>(valid: fc.Arbitrary<T>, weight: number) =>
  fc.oneof({ arbitrary: valid, weight }, { arbitrary: edgy, weight: 1 });
const progressShaped = (weight: number) =>
  fc.record(
    {
      id: mostly(fc.constantFrom('01jobid', '', 'i'.repeat(100), 'i'.repeat(101)), weight),
      leaseToken: mostly(fc.constantFrom('lease', 'l'.repeat(100)), weight),
      progress: mostly(fc.double({ min: 0, max: 100, noNaN: true }), weight),
      message: mostly(fc.string({ maxLength: 20 }), weight),
      leaseMs: mostly(fc.integer({ min: MIN_LEASE_MS, max: MAX_LEASE_MS }), weight),
    },
    { requiredKeys: [] },
  );
/** Mostly progress-shaped objects, sometimes anything. */
const update = fc.oneof(
  { weight: 5, arbitrary: progressShaped(1) },
  { weight: 1, arbitrary: fc.dictionary(key, edgy) },
  { weight: 1, arbitrary: fc.jsonValue() },
);
/** As it would arrive: through JSON (which drops undefined, turns NaN and Infinity into null). */
const asJson = (value: unknown) => {
  const text = JSON.stringify(value);
  return text === undefined ? undefined : JSON.parse(text);
};

describe('progress bodies checked by hand', () => {
  it('accept exactly what progressBody accepts, with the same fields', () => {
    let accepted = 0;
    fc.assert(
      fc.property(update, fc.boolean(), (value, withoutId) => {
        const body = asJson(
          withoutId && typeof value === 'object' && value ? { ...value, id: undefined } : value,
        );
        const zod = progressBody.safeParse(body);
        const hand = readProgressBody(body);
        assert.equal(hand !== undefined, zod.success, JSON.stringify(body));
        if (zod.success) {
          accepted++;
          assert.deepEqual(hand, zod.data);
        }
      }),
      { numRuns: 5000 },
    );
    assert.ok(accepted > 200, `the property saw ${accepted} accepted bodies`);
  });

  it('accept exactly what progressBatchBody accepts, with the same fields', () => {
    let accepted = 0;
    const batch = fc.oneof(
      {
        weight: 5,
        arbitrary: fc.record({ updates: fc.array(progressShaped(12), { minLength: 0, maxLength: 4 }) }),
      },
      {
        weight: 1,
        arbitrary: fc.dictionary(fc.constantFrom('updates', 'other'), fc.oneof(edgy, fc.array(update))),
      },
    );
    fc.assert(
      fc.property(batch, (value) => {
        const body = asJson(value);
        const zod = progressBatchBody.safeParse(body);
        const hand = readProgressBatchBody(body);
        assert.equal(hand !== undefined, zod.success, JSON.stringify(body));
        if (zod.success) {
          accepted++;
          assert.deepEqual(hand, zod.data);
        }
      }),
      { numRuns: 5000 },
    );
    assert.ok(accepted > 100, `the property saw ${accepted} accepted batches`);
  });

  it('agree with the schema at every bound of a field', () => {
    const base = { leaseToken: 'lease', progress: 50, message: 'm', leaseMs: 60_000 };
    const variants: Record<string, unknown>[] = [
      {},
      { leaseToken: '' },
      { leaseToken: 'l'.repeat(101) },
      { progress: -1 },
      { progress: 100.5 },
      { progress: null },
      { message: null },
      { message: 'm'.repeat(LIMITS.messageLength + 1) },
      { leaseMs: 1500.5 },
      { leaseMs: MIN_LEASE_MS - 1 },
      { leaseMs: MAX_LEASE_MS + 1 },
      { leaseMs: null },
      { extra: 1 },
    ];
    for (const variant of variants) {
      const body = { ...base, ...variant };
      assert.equal(
        readProgressBody(body) !== undefined,
        progressBody.safeParse(body).success,
        JSON.stringify(variant),
      );
      const batch = { updates: [{ ...body, id: 'a' }] };
      assert.equal(
        readProgressBatchBody(batch) !== undefined,
        progressBatchBody.safeParse(batch).success,
        `batch ${JSON.stringify(variant)}`,
      );
    }
  });

  it('take a batch of up to 1,000 updates and no more, as the schema does', () => {
    const one = { id: 'a', leaseToken: 'l' };
    for (const count of [1, 1000, 1001]) {
      const body = { updates: Array.from({ length: count }, () => one) };
      assert.equal(
        readProgressBatchBody(body) !== undefined,
        progressBatchBody.safeParse(body).success,
        `${count}`,
      );
    }
  });
});
