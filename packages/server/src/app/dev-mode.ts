import { type Secrets, secretList } from '../auth/jwt.js';

/** Thrown when the job API is set up in a way that would expose it by accident: say what to pass. */
export class JobTrackerConfigError extends Error {
  override readonly name = 'JobTrackerConfigError';
}

/** How the API authenticates its callers; dev mode (no authentication) only when asked for by name. */
export interface AuthSetup {
  secret?: Secrets;
  authenticate?: unknown;
  workerKey?: string;
  devMode?: boolean;
}

/**
 * Refuses a setup with no `secret` and no `authenticate` unless `devMode: true` says so: a host whose
 * `JOBTRACKER_SECRET` went missing must not end up running an API that anyone may call.
 */
export function assertAuthConfigured(setup: AuthSetup): void {
  if (secretList(setup.secret).length > 0 || setup.authenticate || setup.devMode === true) return;
  throw new JobTrackerConfigError(
    'jobtracker: no `secret` and no `authenticate` were given, so every caller would be anonymous and the ' +
      'worker API open. Pass `secret` (e.g. process.env.JOBTRACKER_SECRET, and make sure it is set), or ' +
      '`authenticate: (request) => ownerId | null`, or `devMode: true` to run without authentication on ' +
      'purpose (local development only).',
  );
}

/** The warning printed once when an API starts in dev mode. */
export function devModeBanner(setup: AuthSetup): string {
  const worker = setup.workerKey
    ? 'the worker API still needs its key'
    : 'the worker API is open without a key';
  return (
    '\n  ⚠  DEV MODE: no secret (JOBTRACKER_SECRET is not set). Every caller is the user "demo" and\n' +
    `     ${worker}. Set JOBTRACKER_SECRET (and JOBTRACKER_WORKER_KEY) before exposing this server.\n`
  );
}
