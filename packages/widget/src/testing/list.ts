// What the <job-list> browser tests share: mounting, reading what the list shows, jobs on the server.
import type { Job, JobClient } from '@jobtracker/sdk';
import { JobList } from '../job-list/job-list.js';
import type { JobMessages } from '../shared/messages.js';
import { setUpElementTests } from './element-tests.js';
import { assertEqual, claimJob, eventually, type testUser } from './widget-env.js';

export type TestUser = Awaited<ReturnType<typeof testUser>>;

/** What a test put on the page, and the clients whose cache it fills: cleared by `setUpListTests`. */
export const mounted: Element[] = [];
export const clients: JobClient[] = [];

/** For a `<job-list>` test file: defines the element, and clears the page after each test. */
export function setUpListTests() {
  setUpElementTests(
    'job-list',
    JobList,
    () => {
      for (const element of mounted.splice(0)) element.remove();
      for (const client of clients.splice(0)) client.clear();
      delete (window as { __xss?: unknown }).__xss;
    },
    5000,
  );
}

/** A `<job-list>` with `client` set before it connects, on the page until the test ends. */
export function list(
  client: JobClient,
  attributes: Record<string, string> = {},
  options: { messages?: Partial<JobMessages>; children?: string } = {},
): JobList {
  const element = document.createElement('job-list');
  for (const [name, value] of Object.entries(attributes)) element.setAttribute(name, value);
  element.client = client;
  if (options.messages) element.messages = options.messages;
  if (options.children) element.innerHTML = options.children;
  document.body.append(element);
  mounted.push(element);
  return element;
}

export const root = (element: JobList) => element.shadowRoot as ShadowRoot;
export const shownIds = (element: JobList) =>
  [...root(element).querySelectorAll<HTMLElement>('[part~="card"]')].map((card) => card.dataset.jobId);
export const card = (element: JobList, id: string) =>
  root(element).querySelector<HTMLElement>(`[part~="card"][data-job-id="${id}"]`);

/** Waits until the list shows exactly these jobs, in this order. */
export async function showsJobs(element: JobList, jobs: Job[], what = 'the list') {
  const expected = JSON.stringify(jobs.map((job) => job.id));
  try {
    await eventually(
      async () => {
        await element.updateComplete;
        return JSON.stringify(shownIds(element)) === expected;
      },
      5000,
      what,
    );
  } catch (error) {
    throw new Error(
      `${(error as Error).message}: expected ${expected}, shown ${JSON.stringify(shownIds(element))}`,
    );
  }
}

/** The job as the server has it now. */
export async function serverJob(user: TestUser, id: string): Promise<Job> {
  const response = await fetch(`${user.apiUrl}/jobs/${id}`, {
    headers: { Authorization: `Bearer ${user.token}` },
  });
  assertEqual(response.status, 200, `GET /jobs/${id}`);
  return ((await response.json()) as { job: Job }).job;
}

export async function serverJobs(user: TestUser): Promise<Job[]> {
  const response = await fetch(`${user.apiUrl}/jobs`, { headers: { Authorization: `Bearer ${user.token}` } });
  assertEqual(response.status, 200, 'GET /jobs');
  return ((await response.json()) as { jobs: Job[] }).jobs;
}

/** Creates a job and, unless it should stay pending, runs it as a worker as far as `drive` says. */
export async function job(
  user: TestUser,
  body: { type: string; scope?: string; title?: string },
  drive?: (worker: Awaited<ReturnType<typeof claimJob>>) => Promise<unknown>,
): Promise<Job> {
  const created = await user.create({ ...body, dedupe: false });
  if (drive) {
    const worker = await claimJob(body.type);
    assertEqual(worker.job.id, created.id, 'the worker claimed the job just created');
    await drive(worker);
  }
  return created;
}
