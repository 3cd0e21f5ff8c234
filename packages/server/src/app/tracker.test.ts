import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { PgStore } from '../storage/pg/pg-store.js';
import { SqliteStore } from '../storage/sqlite/sqlite-store.js';
import { openStore, redactDbUrl } from './tracker.js';

describe('openStore', () => {
  it('opens SQLite for file: and :memory:, PostgreSQL for postgres:// with its schema', async () => {
    const memory = openStore(':memory:');
    assert.ok(memory instanceof SqliteStore, ':memory: opens SQLite');
    await memory.close();
    const shared = openStore('postgres://app:pw@db.internal:5432/jobs?schema=tracker&sslmode=disable');
    assert.ok(shared instanceof PgStore, 'a postgres URL opens PostgreSQL');
    assert.equal(shared.schema, 'tracker');
    assert.equal(shared.feed !== undefined, true, 'a shared store has a change feed');
    await shared.close();
    assert.throws(() => openStore('postgres://db/jobs?schema=Not-A-Name'), /schema name/);
  });

  it('refuses an unknown URL without printing its password', () => {
    assert.throws(
      () => openStore('mysql://root:hunter2@db/jobs'),
      (error: Error) => /Unsupported database URL/.test(error.message) && !error.message.includes('hunter2'),
    );
  });
});

describe('redactDbUrl', () => {
  it('hides the password and keeps the rest', () => {
    assert.equal(
      redactDbUrl('postgres://app:s3cr%40t@db:5432/jobs?schema=x'),
      'postgres://app:***@db:5432/jobs?schema=x',
    );
    assert.equal(redactDbUrl('postgres://app@db/jobs'), 'postgres://app@db/jobs');
    assert.equal(redactDbUrl('file:./data/jobtracker.db'), 'file:./data/jobtracker.db');
  });
});
