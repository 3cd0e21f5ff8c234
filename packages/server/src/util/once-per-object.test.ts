import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { oncePerObject } from './once-per-object.js';

describe('oncePerObject', () => {
  it('makes the value once per object and answers it again, separately for each object', () => {
    const calls: string[] = [];
    const label = oncePerObject((item: { name: string }) => {
      calls.push(item.name);
      return `<${item.name}>`;
    });
    const a = { name: 'a' };
    const b = { name: 'b' };
    assert.deepEqual([label(a), label(a), label(b), label(a)], ['<a>', '<a>', '<b>', '<a>']);
    assert.deepEqual(calls, ['a', 'b']);
  });

  it('keeps a falsy result too', () => {
    let calls = 0;
    const none = oncePerObject((_: object) => {
      calls++;
      return '';
    });
    const key = {};
    none(key);
    none(key);
    assert.equal(calls, 1);
  });
});
