#!/usr/bin/env node
// Makes sure the PostgreSQL suites (`*.pg.test.ts`, `test/scale-out/`) have a server: the one at
// JOBTRACKER_TEST_PG_URL, else postgres://postgres@127.0.0.1:5432/postgres. When it does not answer
// and this machine has Debian's cluster tools, it starts the local cluster; otherwise it says how to.
// It never fails `npm test` itself: the suites then fail with their own clear message.
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';

const url = new URL(process.env.JOBTRACKER_TEST_PG_URL || 'postgres://postgres@127.0.0.1:5432/postgres');
const host = url.hostname || '127.0.0.1';
const port = url.port || '5432';

const ready = () =>
  spawnSync('pg_isready', ['-h', host, '-p', port, '-t', '3'], { stdio: 'ignore' }).status === 0;

const wait = (ms) => Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);

if (spawnSync('pg_isready', ['--version'], { stdio: 'ignore' }).status !== 0) {
  console.log(`PostgreSQL: pg_isready is not installed; the PostgreSQL suites will try ${url.host}.`);
} else if (ready()) {
  console.log(`PostgreSQL answers at ${host}:${port}.`);
} else {
  let versions = [];
  try {
    versions = readdirSync('/etc/postgresql');
  } catch {}
  const local = host === '127.0.0.1' || host === 'localhost';
  if (local && versions.length > 0) {
    const version = versions.sort().at(-1);
    console.log(`PostgreSQL does not answer at ${host}:${port}; starting cluster ${version}/main.`);
    spawnSync('pg_ctlcluster', ['--skip-systemctl-redirect', version, 'main', 'start'], { stdio: 'inherit' });
    for (let tries = 0; tries < 20 && !ready(); tries++) wait(500);
  }
  if (ready()) console.log(`PostgreSQL answers at ${host}:${port}.`);
  else {
    console.error(
      `\n✗ PostgreSQL does not answer at ${host}:${port}: the PostgreSQL suites will fail.\n` +
        '  Start it (on this machine kind: pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start)\n' +
        '  or point JOBTRACKER_TEST_PG_URL at one (trust or password in the URL).\n',
    );
  }
}
