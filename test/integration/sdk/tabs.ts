/// <reference types="@jobtracker/test-support/mocha" />
// Tabs and clients for the job client's browser tests: `openTab` loads tab.html, another page of this
// origin running its own client, as a second browser tab would.
import type { CreateJobResponse, Job, JobStatus } from '@jobtracker/sdk';
import { createJobClient, type JobClient } from '@jobtracker/sdk';
import { assertEqual, eventually } from '@jobtracker/test-support/browser-assert';
import {
  streamsClosed,
  testConfig,
  tokenFor,
  uniqueUser,
  workerCall,
} from '@jobtracker/test-support/browser-env';

/** A request a tab's client sent (recorded by tab.html). */
export interface TabRequest {
  url: string;
  method: string;
  lastEventId: string | null;
}

/** A job state a tab's client took (recorded by tab.html on every change of `$jobs`). */
export interface SeenJob {
  id: string;
  version: number;
  status: JobStatus;
  progress: number | null;
}

export interface Tab {
  frame: HTMLIFrameElement;
  client: JobClient;
  announced: string[];
  requests: TabRequest[];
  seen: SeenJob[];
  holdStreams: () => () => void;
}

export interface TabWindow extends Window {
  jobClient?: JobClient;
  announced?: string[];
  requests?: TabRequest[];
  seen?: SeenJob[];
  holdStreams?: () => () => void;
  tabReady?: boolean;
}

const frames: HTMLIFrameElement[] = [];

/** Opens another page of this origin running its own client, as a second browser tab would. */
export async function openTab(params: Record<string, string>): Promise<Tab> {
  const frame = document.createElement('iframe');
  frame.src = `${new URL('./tab.html', import.meta.url).pathname}?${new URLSearchParams(params)}`;
  document.body.append(frame);
  frames.push(frame);
  const win = await eventually(
    () => {
      const candidate = frame.contentWindow as TabWindow | null;
      return candidate?.tabReady ? candidate : null;
    },
    8000,
    'the tab to load',
  );
  return {
    frame,
    client: win.jobClient as JobClient,
    announced: win.announced as string[],
    requests: win.requests as TabRequest[],
    seen: win.seen as SeenJob[],
    holdStreams: win.holdStreams as () => () => void,
  };
}

/** A client of a new user that only polls, every `periodMs`, and counts its polls. */
export async function pollingClient(prefix: string, periodMs: number) {
  const { apiUrl } = await testConfig();
  const user = uniqueUser(prefix);
  let polls = 0;
  const client = createJobClient({
    baseUrl: apiUrl,
    token: await tokenFor(user),
    user,
    transport: 'poll',
    shareTabs: false,
    storage: null,
    fetch: (input, init) => {
      if (String(input).includes('/jobs?since=')) polls++;
      return fetch(input, init);
    },
    pollActiveMs: periodMs,
    pollIdleMs: periodMs,
  });
  return { client, polls: () => polls };
}

export async function createJob(apiUrl: string, token: string, body: object): Promise<Job> {
  const response = await fetch(`${apiUrl}/jobs`, {
    method: 'POST',
    headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' },
    body: JSON.stringify(body),
  });
  assertEqual(response.status, 201, 'create status');
  return ((await response.json()) as CreateJobResponse).job;
}

export async function claim(type: string) {
  const claimed = await workerCall<{ job: Job; leaseToken: string }>('/claim', {
    types: [type],
    leaseMs: 60_000,
  });
  assertEqual(claimed.status, 200, 'claim status');
  return claimed.json;
}

// After each test of a file that opens tabs: close them, and wait until their streams have closed.
afterEach(async () => {
  for (const frame of frames.splice(0)) frame.remove();
  await streamsClosed();
});
