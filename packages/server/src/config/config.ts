import { parseArgs } from 'node:util';
import { DEFAULT_LEASE_MS, MAX_LEASE_MS, MIN_LEASE_MS } from '@jobtracker/sdk/wire';
import type { ServerOptions } from '../app/server.js';
import { DEFAULT_DB } from '../app/tracker.js';

export const USAGE = `Usage: jobtracker-server [options]

Options (each mirrors an environment variable):
  --port <n>            PORT                     default 8787
  --host <name>         HOST                     default 127.0.0.1
  --db <url>            JOBTRACKER_DB            default ${DEFAULT_DB} (or :memory:, or
                                                 postgres://user@host/db[?schema=name] for several instances)
  --secret <s>          JOBTRACKER_SECRET        HS256 secret for browser tokens; without it: dev mode
                                                 (every caller is the user "demo"). To rotate, a
                                                 comma-separated list: the first signs, all verify
  --issuer <iss>        JOBTRACKER_ISSUER        tokens must carry this iss claim (unset: not checked)
  --audience <aud>      JOBTRACKER_AUDIENCE      tokens must carry this aud claim (unset: not checked)
  --worker-key <k>      JOBTRACKER_WORKER_KEY    key for the worker API
  --cors-origins <list> JOBTRACKER_CORS_ORIGINS  comma-separated allowed origins
  --lease-ms <n>        JOBTRACKER_LEASE_MS      lease of the in-process runner, default ${DEFAULT_LEASE_MS}
  --demo                JOBTRACKER_DEMO=1        register the demo job types and serve the demo page
  -h, --help

Environment only:
  JOBTRACKER_LOG_LEVEL   debug | info | warn | error; debug adds stacks, default info`;

/**
 * Reads CLI flags, falling back to the environment; an empty value counts as unset (`HOST=` in an env
 * file keeps the loopback default rather than listening on every interface). Without a secret the
 * settings ask for dev mode by name (`devMode: true`), so `npm start` runs with no set-up. The secret is a
 * comma-separated list (for rotation: the first signs, all verify). Throws with a
 * readable message on bad values.
 */
export function readConfig(argv: string[], env: NodeJS.ProcessEnv): ServerOptions & { help: boolean } {
  const { values } = parseArgs({
    args: argv,
    options: {
      port: { type: 'string' },
      host: { type: 'string' },
      db: { type: 'string' },
      secret: { type: 'string' },
      issuer: { type: 'string' },
      audience: { type: 'string' },
      'worker-key': { type: 'string' },
      'cors-origins': { type: 'string' },
      'lease-ms': { type: 'string' },
      demo: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
    strict: true,
  });
  const given = (flag: string | undefined, variable: string | undefined) =>
    flag !== undefined && flag !== ''
      ? flag
      : variable !== undefined && variable !== ''
        ? variable
        : undefined;
  const integer = (name: string, raw: string | undefined, fallback: number, min: number, max = Infinity) => {
    if (raw === undefined || raw === '') return fallback;
    const value = Number(raw);
    if (!Number.isInteger(value) || value < min || value > max)
      throw new Error(
        `${name} must be a whole number ≥ ${min}${max < Infinity ? ` and ≤ ${max}` : ''}, not "${raw}".`,
      );
    return value;
  };
  const list = (raw: string | undefined) =>
    (raw ?? '')
      .split(',')
      .map((item) => item.trim())
      .filter(Boolean);
  const origins = list(values['cors-origins'] ?? env.JOBTRACKER_CORS_ORIGINS);
  const secrets = list(given(values.secret, env.JOBTRACKER_SECRET));
  const secret = secrets.length > 0 ? secrets : undefined;
  const leaseMs = integer(
    '--lease-ms',
    given(values['lease-ms'], env.JOBTRACKER_LEASE_MS),
    DEFAULT_LEASE_MS,
    MIN_LEASE_MS,
    MAX_LEASE_MS,
  );
  return {
    help: values.help ?? false,
    port: integer('--port', given(values.port, env.PORT), 8787, 0),
    hostname: given(values.host, env.HOST) ?? '127.0.0.1',
    db: given(values.db, env.JOBTRACKER_DB) ?? DEFAULT_DB,
    secret,
    issuer: given(values.issuer, env.JOBTRACKER_ISSUER),
    audience: given(values.audience, env.JOBTRACKER_AUDIENCE),
    devMode: secret === undefined,
    workerKey: given(values['worker-key'], env.JOBTRACKER_WORKER_KEY),
    corsOrigins: origins,
    demo: values.demo ?? ['1', 'true', 'yes'].includes(env.JOBTRACKER_DEMO ?? ''),
    runner: { leaseMs },
  };
}
