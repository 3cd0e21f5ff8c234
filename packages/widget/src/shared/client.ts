import { createJobClient, type JobClient, type JobClientOptions } from '@jobtracker/sdk';
import { createContext } from '@lit/context';

/** The context through which `<job-provider>` hands its client to the elements inside it. */
export const jobClientContext = createContext<JobClient | undefined>(Symbol.for('jobtracker.client'));

let pageDefault: JobClient | undefined;

/**
 * Sets the page-wide client used by elements that have neither a `client` property nor a
 * `<job-provider>` around them, so that every element on the page shares one client and one
 * connection. Pass a client, or options to create one.
 */
export function configureJobTracker(clientOrOptions: JobClient | JobClientOptions): JobClient {
  pageDefault = '$jobs' in clientOrOptions ? clientOrOptions : createJobClient(clientOrOptions);
  return pageDefault;
}

const meta = (name: string) =>
  typeof document === 'undefined'
    ? null
    : (document.querySelector<HTMLMetaElement>(`meta[name="${name}"]`)?.getAttribute('content') ?? null);

/**
 * The page-wide client: the one `configureJobTracker` set, else one created on first use from
 * `<meta name="jobtracker-endpoint" content="/api">` (default `/api`) and, when present,
 * `<meta name="jobtracker-token" content="…">`.
 */
export function defaultJobClient(): JobClient {
  pageDefault ??= createJobClient({
    baseUrl: meta('jobtracker-endpoint') ?? '/api',
    token: meta('jobtracker-token') ?? undefined,
  });
  return pageDefault;
}

/** Forgets the page-wide client (tests, or a logout that makes a new one). */
export function resetDefaultJobClient(): void {
  pageDefault = undefined;
}
