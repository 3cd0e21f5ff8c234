import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { describe, it } from 'node:test';
import { PgStore } from '../postgres.js';
import { SqliteStore } from '../storage/sqlite/sqlite-store.js';
import { openStore, redactDbUrl } from './tracker.js';

describe('openStore', () => {
  it('opens SQLite for file: and :memory:, PostgreSQL for postgres:// with its schema', async () => {
    const memory = await openStore(':memory:');
    assert.ok(memory instanceof SqliteStore, ':memory: opens SQLite');
    await memory.close();
    const shared = await openStore('postgres://app:pw@db.internal:5432/jobs?schema=tracker&sslmode=disable');
    assert.ok(shared instanceof PgStore, 'a postgres URL opens PostgreSQL');
    assert.equal(shared.schema, 'tracker');
    assert.equal(shared.feed !== undefined, true, 'a shared store has a change feed');
    await shared.close();
    await assert.rejects(
      openStore('postgres://db/jobs?schema=Not-A-Name'),
      /schema name/,
      'a bad schema is refused',
    );
  });

  it('refuses an unknown URL without printing its password', async () => {
    await assert.rejects(
      openStore('mysql://root:hunter2@db/jobs'),
      (error: Error) => /Unsupported database URL/.test(error.message) && !error.message.includes('hunter2'),
      'an unknown URL is refused without its password',
    );
  });

  it('without pg installed: the package loads and SQLite opens; a postgres:// URL names the missing package', () => {
    const hidePg = `export async function resolve(specifier, context, next) {
      if (specifier !== 'pg') return next(specifier, context);
      throw Object.assign(new Error("Cannot find package 'pg'"), { code: 'ERR_MODULE_NOT_FOUND' });
    }`;
    const register = `import { register } from 'node:module';
      register('data:text/javascript,' + encodeURIComponent(${JSON.stringify(hidePg)}));`;
    const script = `
      const { openStore } = await import(${JSON.stringify(new URL('../index.ts', import.meta.url).href)});
      const sqlite = await openStore(':memory:');
      await sqlite.close();
      const postgres = await openStore('postgres://db/jobs').then(() => 'opened', (error) => error.name + ': ' + error.message);
      console.log(JSON.stringify({ sqlite: sqlite.constructor.name, postgres }));`;
    const output = execFileSync(
      process.execPath,
      [
        '--conditions=jobtracker-source',
        '--import',
        'tsx',
        '--import',
        `data:text/javascript,${encodeURIComponent(register)}`,
        '--input-type=module',
        '-e',
        script,
      ],
      { encoding: 'utf8' },
    );
    const result = JSON.parse(output.trim().split('\n').at(-1) ?? '{}') as {
      sqlite: string;
      postgres: string;
    };
    assert.equal(result.sqlite, 'SqliteStore', 'SQLite opens without pg');
    assert.match(
      result.postgres,
      /^JobTrackerConfigError: .*"pg".*npm install pg/,
      'the error names pg and how to install it',
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
