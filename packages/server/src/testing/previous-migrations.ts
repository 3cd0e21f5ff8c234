import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * A copy of a dialect's migrations that stops before the migration tagged `before`: migrating with it
 * builds a database as a previous version left it, for tests that the current version upgrades it.
 */
export function migrationsBefore(dialect: 'sqlite' | 'pg', before: string) {
  const source = fileURLToPath(new URL(`../../drizzle/${dialect}`, import.meta.url));
  const folder = mkdtempSync(join(tmpdir(), `jobtracker-migrations-${dialect}-`));
  cpSync(source, folder, { recursive: true });
  const journalPath = join(folder, 'meta', '_journal.json');
  const journal = JSON.parse(readFileSync(journalPath, 'utf8')) as { entries: { tag: string }[] };
  const at = journal.entries.findIndex((entry) => entry.tag === before);
  if (at < 0) throw new Error(`No migration tagged ${before} in ${source}.`);
  journal.entries = journal.entries.slice(0, at);
  writeFileSync(journalPath, JSON.stringify(journal));
  return { folder, remove: () => rmSync(folder, { recursive: true, force: true }) };
}
