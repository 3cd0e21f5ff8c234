/// <reference types="@jobtracker/test-support/mocha" />
import type { Job, JobClient } from '@jobtracker/sdk';
import {
  assert,
  assertEqual,
  claimJob,
  delay,
  eventually,
  streamsClosed,
  testConfig,
  tokenFor,
  uniqueUser,
} from './testing/widget-env.js';

/** What a page showed in one animation frame: the elements' shadow text, the badge count, the client's stores. */
interface Sample {
  shown: string;
  badge: string | null;
  stores: string;
}

interface PageWindow extends Window {
  pageClient?: JobClient;
  samples?: Sample[];
}

const frames: HTMLIFrameElement[] = [];
afterEach(async () => {
  for (const frame of frames.splice(0)) frame.remove();
  for (let i = localStorage.length - 1; i >= 0; i--) {
    const key = localStorage.key(i);
    if (key?.startsWith('jobtracker:')) localStorage.removeItem(key);
  }
  await streamsClosed();
});

/**
 * A page of the host app for `sub`, as the README's React example sets it up: the page-wide client
 * with a token function (no `user`), and a tracker, a list and a badge. From its first animation
 * frame to its last, the page records what the elements show and what its client holds.
 */
async function userPage(sub: string): Promise<PageWindow> {
  const { apiUrl } = await testConfig();
  const tokenUrl = `${location.origin}/__jobtracker/token?sub=${encodeURIComponent(sub)}`;
  const frame = document.createElement('iframe');
  frame.srcdoc = `<!doctype html><html lang="en"><head><title>Programs</title>
    <script>
      window.samples = [];
      const sample = () => {
        const client = window.pageClient;
        window.samples.push({
          shown: [...document.querySelectorAll('job-tracker, job-list, job-badge')]
            .map((element) => element.shadowRoot?.textContent ?? '')
            .join(' | '),
          badge: document.querySelector('job-badge')?.getAttribute('count') ?? null,
          stores: client ? JSON.stringify([client.$jobs.get(), client.$dismissed.get()]) : '',
        });
        requestAnimationFrame(sample);
      };
      requestAnimationFrame(sample);
    </script>
    <script type="module">
      import { configureJobTracker } from '/packages/widget/src/standalone.ts';
      window.pageClient = configureJobTracker({
        baseUrl: ${JSON.stringify(apiUrl)},
        token: () => fetch(${JSON.stringify(tokenUrl)}).then((r) => r.json()).then((body) => body.token),
      });
    </script>
    </head><body><nav><a href="#">Programs <job-badge></job-badge></a></nav>
    <main><job-list status="active,completed,failed,cancelled"></job-list></main>
    <job-tracker></job-tracker></body></html>`;
  frame.style.cssText = 'width: 1000px; height: 700px';
  document.body.append(frame);
  frames.push(frame);
  return eventually(
    () => {
      const win = frame.contentWindow as PageWindow | null;
      return win?.pageClient && win.customElements.get('job-tracker') ? win : null;
    },
    8000,
    'the page to load',
  );
}

const closePage = (page: PageWindow) => {
  const frame = frames.find((candidate) => candidate.contentWindow === page);
  frame?.remove();
};

/** Creates a job as `token`'s user through the API. */
async function createJob(token: string, type: string, title: string): Promise<Job> {
  const { apiUrl } = await testConfig();
  const response = await fetch(`${apiUrl}/jobs`, {
    method: 'POST',
    headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' },
    body: JSON.stringify({ type, title }),
  });
  assertEqual(response.status, 201, 'create status');
  return ((await response.json()) as { job: Job }).job;
}

/** User A on their page: one job that finished while they watched, one still running at 40%. */
async function aliceWithJobs() {
  const alice = uniqueUser('alice');
  const token = await tokenFor(alice);
  const page = await userPage(alice);
  const finished = await createJob(token, `shared.done.${alice}`, `Alice payroll export ${alice}`);
  const running = await createJob(token, `shared.run.${alice}`, `Alice salary report ${alice}`);
  const done = await claimJob(`shared.done.${alice}`);
  await done.complete({ summary: `Alice bonus figures ${alice}` });
  const worker = await claimJob(`shared.run.${alice}`);
  await worker.progress(40, `Alice medical notes ${alice}`);
  const client = page.pageClient as JobClient;
  await eventually(
    () =>
      client.jobStore(running.id).get()?.progress === 40 &&
      client.jobStore(finished.id).get()?.status === 'completed',
    5000,
    "both of A's jobs on A's page",
  );
  return { alice, page, finished, running, worker, secrets: [alice, finished.id, running.id] };
}

/** Fails if any frame of `page` showed or held anything of `secrets`, or counted a job other than `own`. */
function assertNeverShown(page: PageWindow, secrets: string[], own: Job, who: string) {
  const samples = page.samples ?? [];
  assert(samples.length > 20, `${who}: frames were sampled (${samples.length})`);
  for (const [index, sample] of samples.entries()) {
    const leaked = secrets.find((secret) => sample.shown.includes(secret) || sample.stores.includes(secret));
    assert(
      !leaked,
      `${who}, frame ${index}: shows or holds another user's job (${leaked}): ${sample.shown.slice(0, 200)}`,
    );
    assert(
      sample.badge === null ||
        sample.badge === '0' ||
        (sample.badge === '1' && sample.stores.includes(own.id)),
      `${who}, frame ${index}: the badge counts another user's jobs (${sample.badge})`,
    );
  }
}

describe('one browser, two users (a shared computer)', () => {
  it("never shows a user the jobs that the previous user's pages cached, and keeps the previous user's announcement for them", async () => {
    const { page: alicePage, running, worker, secrets, alice } = await aliceWithJobs();
    await eventually(
      () => Object.keys(localStorage).some((key) => localStorage.getItem(key)?.includes(running.id)),
      3000,
      "A's jobs in the browser's cache",
    );
    closePage(alicePage);

    // B logs in on the same browser: the same page, a token function that now answers B's token.
    const bob = uniqueUser('bob');
    const bobPage = await userPage(bob);
    const bobClient = bobPage.pageClient as JobClient;
    await eventually(() => bobClient.$connection.get().state === 'live', 5000, "B's live connection");
    const bobJob = await createJob(await tokenFor(bob), `shared.bob.${bob}`, `Bob own job ${bob}`);
    await eventually(() => bobClient.jobStore(bobJob.id).get(), 5000, "B's own job on B's page");
    // A's running job finishes while B is at the computer: never B's to be told about.
    await worker.complete({ summary: `Alice result ${alice}` });
    await delay(1500);
    assertNeverShown(bobPage, secrets, bobJob, "B's page");
    assert(
      (bobPage.samples ?? []).some((sample) => sample.shown.includes(`Bob own job ${bob}`)),
      "B's page shows B's own job",
    );
    closePage(bobPage);

    // A comes back later: the completion of A's job is announced to A.
    const aliceAgain = await userPage(alice);
    const tracker = aliceAgain.document.querySelector('job-tracker') as HTMLElement;
    const toast = await eventually(
      () => tracker.shadowRoot?.querySelector<HTMLElement>(`[part="toast"][data-job-id="${running.id}"]`),
      8000,
      "A's toast for the job that finished while away",
    );
    assert(
      toast.textContent?.includes(`Alice result ${alice}`),
      `A's toast tells A's result: ${toast.textContent}`,
    );
  });

  it("never relays one user's jobs to another user's tab of the same browser", async () => {
    const { page: alicePage, running, worker, secrets } = await aliceWithJobs();
    const bob = uniqueUser('bob');
    const bobPage = await userPage(bob);
    const bobClient = bobPage.pageClient as JobClient;
    await eventually(() => bobClient.$connection.get().state === 'live', 5000, "B's live connection");
    // A's tab goes on hearing A's job while B's tab is open.
    await worker.progress(60, 'Still private');
    await eventually(
      () => alicePage.pageClient?.jobStore(running.id).get()?.progress === 60,
      5000,
      "A's tab to hear A's progress",
    );
    const bobJob = await createJob(await tokenFor(bob), `shared.bob.${bob}`, `Bob own job ${bob}`);
    await eventually(() => bobClient.jobStore(bobJob.id).get(), 5000, "B's own job in B's tab");
    await delay(500);
    assertNeverShown(bobPage, secrets, bobJob, "B's tab");
    assertEqual(alicePage.pageClient?.jobStore(bobJob.id).get(), undefined, "B's job in A's tab");
  });
});
