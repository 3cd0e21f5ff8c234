/// <reference types="@jobtracker/test-support/mocha" />
// The drop-in file defines <job-tracker> and <job-badge> itself and loads the other elements from the
// chunks beside it when a page uses them: what a page fetches, and that late definitions behave.
import type { Job } from '@jobtracker/sdk';
import type { JobButton } from './job-button/job-button.js';
import type { JobList } from './job-list/job-list.js';
import type { JobTracker } from './job-tracker/job-tracker.js';
import { definedIn, distFilesOf, dropInPage, removeDropInPages, requestsOf } from './testing/drop-in-page.js';
import {
  assert,
  assertEqual,
  claimJob,
  delay,
  eventually,
  streamsClosed,
  testUser,
  workerCall,
} from './testing/widget-env.js';

afterEach(async () => {
  removeDropInPages();
  await streamsClosed();
});

const LAZY_TAGS = ['job-list', 'job-button', 'job-provider'];
const ENTRY = 'jobtracker.min.js';

/** A running job of `user` at `percent`, created through the API and driven by a worker. */
async function runningJob(user: Awaited<ReturnType<typeof testUser>>, type: string, percent: number) {
  const job = await user.create({ type, title: `${type} job`, dedupe: false });
  const worker = await claimJob(type);
  assertEqual(worker.job.id, job.id, 'the worker runs the created job');
  await worker.progress(percent, 'Working');
  return { job, worker };
}

const cardOf = (element: Element, job: Job) => element.shadowRoot?.querySelector(`[data-job-id="${job.id}"]`);
const percentOf = (element: Element, job: Job) =>
  cardOf(element, job)?.querySelector('[part="percent"]')?.textContent;

/** Whether the page fetched a chunk of `name` (`chunks/<name>-<hash>.js`). */
const hasChunk = (files: string[], name: string) =>
  files.some((file) => new RegExp(`^chunks/${name}-[\\w-]+\\.js$`).test(file));

describe('the drop-in file, split into an entry and lazily loaded chunks', () => {
  it('loads only the entry file for a page with <job-tracker> and <job-badge>', async () => {
    const user = await testUser('lazy-two');
    const type = `lazy.two.${user.user}`;
    const { job } = await runningJob(user, type, 30);
    const page = await dropInPage(
      user,
      '',
      '<nav>Programs <job-badge></job-badge></nav><job-tracker></job-tracker>',
    );
    const tracker = page.querySelector('job-tracker') as JobTracker;
    await eventually(() => percentOf(tracker, job) === '30%', 8000, 'the tracker to show the running job');
    await eventually(
      () => page.querySelector('job-badge')?.getAttribute('count') === '1',
      5000,
      'the badge to count it',
    );
    // Time for any chunk a load started with the page to arrive.
    await delay(300);
    assertEqual(distFilesOf(page), [ENTRY], 'files of the dist folder the page fetched');
    for (const tag of LAZY_TAGS)
      assert(!page.defaultView?.customElements.get(tag), `<${tag}> is not defined on this page`);
  });

  it("loads the locale of the page's language from its chunk, and no other", async () => {
    const user = await testUser('lazy-locale');
    const type = `lazy.locale.${user.user}`;
    const { job } = await runningJob(user, type, 30);
    const page = await dropInPage(
      user,
      '',
      '<nav>Programme <job-badge></job-badge></nav><job-tracker></job-tracker>',
      'de-AT',
    );
    const tracker = page.querySelector('job-tracker') as JobTracker;
    await eventually(
      () => percentOf(tracker, job) === '30\u00a0%',
      8000,
      'the tracker to show the job, in German',
    );
    await eventually(
      () => cardOf(tracker, job)?.querySelector('[part="cancel-button"]')?.textContent === 'Abbrechen',
      5000,
      'the German Cancel',
    );
    await delay(300);
    const files = distFilesOf(page);
    assert(hasChunk(files, 'de'), `the German chunk was fetched: ${files}`);
    assertEqual(files.length, 2, `the entry and the German chunk, no other: ${files}`);
  });

  it('loads <job-list>, <job-button> and <job-provider> from their chunks, keeping what was set before', async () => {
    const pageUser = await testUser('lazy-page');
    const providerUser = await testUser('lazy-provider');
    const type = `lazy.all.${providerUser.user}`;
    const { job: pageJob } = await runningJob(pageUser, `lazy.other.${pageUser.user}`, 10);
    const { job: done, worker: doneWorker } = await runningJob(providerUser, type, 50);
    await doneWorker.complete({ url: '/done' });
    // The page's meta tags name another user: the elements inside the provider must never use that client.
    const page = await dropInPage(
      pageUser,
      '',
      `<job-provider endpoint="${providerUser.apiUrl}" token="${providerUser.token}" user="${providerUser.user}">
        <job-list status="completed" limit="1"></job-list>
        <job-list id="active" status="active"></job-list>
        <job-button type="${type}"><button type="button">Generate program</button></job-button>
        <job-tracker></job-tracker>
      </job-provider>
      <script>
        // Set before the elements are defined (a plain script runs before the module script).
        document.querySelector('#active').messages = { empty: 'Nothing running' };
        const button = document.querySelector('job-button');
        button.input = '{"program":7}';
        button.jobTitle = 'Program 7';
      </script>`,
    );
    for (const tag of LAZY_TAGS) await definedIn(page, tag);
    const files = distFilesOf(page);
    for (const name of LAZY_TAGS)
      assert(hasChunk(files, name), `the chunk of <${name}> was fetched: ${files}`);

    const [completed, active] = [...page.querySelectorAll('job-list')] as JobList[];
    const button = page.querySelector('job-button') as JobButton;
    const tracker = page.querySelector('job-tracker') as JobTracker;
    assert(completed && active, 'two lists');
    await eventually(() => cardOf(completed, done), 8000, "the completed list to show the provider's job");
    assertEqual(completed.limit, 1, 'the limit attribute, read on upgrade');
    await eventually(
      () => active.shadowRoot?.querySelector('[part="empty"]')?.textContent?.includes('Nothing running'),
      5000,
      'the empty text from the messages set before the upgrade',
    );

    await button.updateComplete;
    button.querySelector('button')?.click();
    const started = await eventually(() => button.job, 5000, 'the job the button started');
    assertEqual(started.title, 'Program 7', 'jobTitle, set before the upgrade');
    // The API gives a job's input to the worker that claims it.
    const claimed = await workerCall<{ job: Job; input: unknown; leaseToken: string }>('/claim', {
      types: [type],
      leaseMs: 60_000,
    });
    assertEqual(claimed.json.job.id, started.id, "the job was started with the provider's client");
    assertEqual(claimed.json.input, { program: 7 }, 'input, set before the upgrade');
    await workerCall(`/jobs/${started.id}/progress`, {
      leaseToken: claimed.json.leaseToken,
      progress: 40,
      message: 'Writing',
    });
    await eventually(
      () => {
        assert(!cardOf(tracker, pageJob), "the tracker never shows the page-wide client's job");
        return percentOf(tracker, started) === '40%';
      },
      8000,
      "the tracker inside the provider to show the provider's job",
    );
    assertEqual(cardOf(tracker, pageJob), null, "the page-wide client's job");
    assert(
      requestsOf(page).every((request) => request.authorization !== `Bearer ${pageUser.token}`),
      "no request went out with the page-wide client's token",
    );
  });

  it('defines an element added after the page loaded, with the attributes and properties it was given', async () => {
    const user = await testUser('lazy-later');
    const type = `lazy.later.${user.user}`;
    const first = await runningJob(user, type, 20);
    const second = await runningJob(user, type, 60);
    const page = await dropInPage(user, '', '<job-tracker></job-tracker>');
    const tracker = page.querySelector('job-tracker') as JobTracker;
    await eventually(() => percentOf(tracker, second.job) === '60%', 8000, 'the tracker to show the jobs');
    await delay(200);
    assert(!hasChunk(distFilesOf(page), 'job-list'), 'no <job-list> chunk before the page has one');

    const list = page.createElement('job-list') as JobList;
    list.setAttribute('type', type);
    list.limit = 1;
    page.body.append(list);
    await definedIn(page, 'job-list');
    assert(hasChunk(distFilesOf(page), 'job-list'), 'the <job-list> chunk was fetched');
    await eventually(() => cardOf(list, second.job), 8000, 'the list to show the newest job');
    assertEqual(list.limit, 1, 'the limit property, set before the upgrade');
    assertEqual(list.jobs.length, 1, 'jobs shown: the limit holds');
    assertEqual(cardOf(list, first.job), null, 'the older job, beyond the limit');

    // Nested in a subtree added later, too.
    const section = page.createElement('section');
    section.innerHTML = `<div><job-button type="${type}"><button type="button">Again</button></job-button></div>`;
    page.body.append(section);
    const button =
      (await definedIn(page, 'job-button')) && (section.querySelector('job-button') as JobButton);
    await button.updateComplete;
    assertEqual(
      button.querySelector('button')?.getAttribute('aria-disabled'),
      'true',
      'the button is held by its running job',
    );
  });

  it('gives a <job-tracker> inside a <job-provider> added later the provider’s client', async () => {
    const pageUser = await testUser('lazy-meta');
    const providerUser = await testUser('lazy-late');
    const pageJob = await runningJob(pageUser, `lazy.meta.${pageUser.user}`, 15);
    const providerJob = await runningJob(providerUser, `lazy.late.${providerUser.user}`, 45);
    const page = await dropInPage(pageUser, '', '<nav>Programs <job-badge></job-badge></nav>');
    await eventually(
      () => page.querySelector('job-badge')?.getAttribute('count') === '1',
      8000,
      "the badge to count the page-wide client's job",
    );
    // <job-tracker> is defined already: it upgrades at once, while the provider's class is still to load.
    page.body.insertAdjacentHTML(
      'beforeend',
      `<job-provider endpoint="${providerUser.apiUrl}" token="${providerUser.token}" user="${providerUser.user}">
        <job-tracker></job-tracker>
      </job-provider>`,
    );
    const tracker = page.querySelector('job-tracker') as JobTracker;
    assert(tracker.shadowRoot, 'the tracker upgraded as soon as it was added');
    assert(!page.defaultView?.customElements.get('job-provider'), 'the provider is not defined yet');
    await eventually(
      () => {
        assert(!cardOf(tracker, pageJob.job), "the tracker never shows the page-wide client's job");
        return percentOf(tracker, providerJob.job) === '45%';
      },
      8000,
      "the tracker to show the provider's job",
    );
    await delay(300);
    assertEqual(cardOf(tracker, pageJob.job), null, "the page-wide client's job, later");
  });
});
