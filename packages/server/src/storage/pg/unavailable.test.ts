import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isPgUnavailable } from './pg-store.js';

const withCode = (code: string, message = 'failed') => Object.assign(new Error(message), { code });

describe('isPgUnavailable', () => {
  it('tells a database out of reach from a query in error', () => {
    for (const error of [
      withCode('ECONNREFUSED'),
      withCode('ECONNRESET'),
      withCode('57P01', 'terminating connection due to administrator command'),
      withCode('57P03', 'the database system is starting up'),
      withCode('08006'),
      withCode('53300', 'sorry, too many clients already'),
      new Error('Connection terminated unexpectedly'),
      new Error('timeout exceeded when trying to connect'),
      new Error('Client has encountered a connection error and is not queryable'),
      new Error('wrapped', { cause: withCode('ECONNREFUSED') }),
    ]) {
      assert.equal(isPgUnavailable(error), true, String(error));
    }
    for (const error of [
      withCode('23505', 'duplicate key value violates unique constraint'),
      withCode('42P01', 'relation "jobs" does not exist'),
      withCode('22P02', 'invalid input syntax'),
      new Error('something else'),
      'ECONNREFUSED',
      null,
    ]) {
      assert.equal(isPgUnavailable(error), false, String(error));
    }
  });
});
