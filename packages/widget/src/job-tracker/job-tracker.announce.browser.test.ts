/// <reference types="@jobtracker/test-support/mocha" />
import { JobButton } from '../job-button/job-button.js';
import { JobList } from '../job-list/job-list.js';
import { defineElement } from '../shared/define.js';
import { recordAnnouncements } from '../testing/announcements.js';
import { button, card, mount, mounted, root, setUpTrackerTests, text, toasts } from '../testing/tracker.js';
import { assertEqual, claimJob, delay, eventually, testUser } from '../testing/widget-env.js';

setUpTrackerTests();
defineElement('job-button', JobButton);
defineElement('job-list', JobList);

/** A job type of this test alone, so that `claimJob` picks only its jobs. */
const uniqueType = (name: string) => `tracker.announce.${name}.${crypto.randomUUID().slice(0, 8)}`;
const typeLabels = (type: string, label: string) => ({ types: JSON.stringify({ [type]: { label } }) });

describe('<job-tracker> announcements', () => {
  it('names the job in each announcement, and says outcomes that coincide once each', async () => {
    const { client, create } = await testUser('announce-names');
    const type = uniqueType('names');
    const tracker = await mount(client, typeLabels(type, 'Program generation'));
    const said = recordAnnouncements(root(tracker));
    const jobs = [
      await create({ type, scope: 'a', title: 'Q3 growth program' }),
      await create({ type, scope: 'b' }),
      await create({ type, scope: 'c' }),
    ];
    await eventually(() => jobs.every((job) => card(tracker, job.id)), 5000, 'the cards');
    const workers = await Promise.all(jobs.map(() => claimJob(type)));
    await Promise.all(workers.map((worker) => worker.complete({ summary: 'Done' })));
    await eventually(() => toasts(tracker).length === 3, 5000, 'three toasts');
    await delay(1000);
    assertEqual(
      [...said].sort(),
      [
        'polite: Program generation: complete',
        'polite: Program generation: complete',
        'polite: Q3 growth program: complete',
      ],
      'each completion once, named by its title, else its type',
    );
  });

  it('says each milestone once, also of jobs that reach one together, and a cancel, a failure and a retry', async () => {
    const { client, create } = await testUser('announce-steps');
    const type = uniqueType('steps');
    const tracker = await mount(client, typeLabels(type, 'Program generation'));
    const host = document.createElement('job-button');
    host.setAttribute('type', type);
    host.setAttribute('scope', 'import');
    host.client = client;
    host.innerHTML = '<button type="button">Import</button>';
    const list = document.createElement('job-list');
    list.client = client;
    document.body.append(host, list);
    mounted.push({ element: host }, { element: list });
    await Promise.all([host.updateComplete, list.updateComplete]);
    const said = recordAnnouncements(
      root(tracker),
      host.shadowRoot as ShadowRoot,
      list.shadowRoot as ShadowRoot,
    );
    const importing = await create({ type, scope: 'import', title: 'Import' });
    const exporting = await create({ type, scope: 'export', title: 'Export' });
    await eventually(() => card(tracker, importing.id) && card(tracker, exporting.id), 5000, 'the cards');
    const workers = await Promise.all([claimJob(type), claimJob(type)]);
    const percentShown = (id: string, value: string) =>
      eventually(
        () => text(card(tracker, id)?.querySelector('[part="percent"]')) === value,
        5000,
        `${value} in the card`,
      );
    await Promise.all(workers.map((worker) => worker.progress(30)));
    await Promise.all([percentShown(importing.id, '30%'), percentShown(exporting.id, '30%')]);
    await Promise.all(workers.map((worker) => worker.progress(55)));
    await Promise.all([percentShown(importing.id, '55%'), percentShown(exporting.id, '55%')]);
    await delay(500);
    assertEqual(
      [...said].sort(),
      ['polite: Export: 25%', 'polite: Export: 50%', 'polite: Import: 25%', 'polite: Import: 50%'],
      'each milestone of each job once, and nothing from the button or the list',
    );

    said.length = 0;
    button(card(tracker, importing.id) as HTMLElement, 'cancel-button')?.click();
    await eventually(() => card(tracker, importing.id) === null, 5000, 'the cancelled card to go');
    const exportWorker = workers.find((worker) => worker.job.id === exporting.id);
    await exportWorker?.fail('Disk full');
    const failed = await eventually(
      () => card(tracker, exporting.id)?.querySelector('[part="retry-button"]'),
      5000,
      'the failed card',
    );
    await eventually(() => said.length >= 2, 3000, 'the cancel and the failure said');
    (failed as HTMLButtonElement).click();
    await eventually(() => said.length >= 3, 5000, 'the retry said');
    await delay(1500);
    assertEqual(
      said,
      ['polite: Import: cancelled', 'assertive: Export: failed. Disk full', 'polite: Export: started again'],
      'the cancel, the failure and the retry, once each',
    );
    const retry = client.$active.get().find((job) => job.retryOf === exporting.id);
    if (retry) await client.cancel(retry.id);
  });

  it('says nothing stale after an absence: only the outcome of a job that finished meanwhile', async () => {
    const { client, create, network } = await testUser('announce-away');
    const type = uniqueType('away');
    const tracker = await mount(client, typeLabels(type, 'Program generation'));
    const said = recordAnnouncements(root(tracker));
    const job = await create({ type, title: 'Q3 growth program' });
    await eventually(() => card(tracker, job.id), 5000, 'the card');
    const worker = await claimJob(type);
    await worker.progress(50);
    await eventually(
      () => text(card(tracker, job.id)?.querySelector('[part="percent"]')) === '50%',
      5000,
      '50% in the card',
    );
    network.down();
    await worker.progress(75);
    await delay(300);
    await worker.complete({ summary: 'Done' });
    await delay(300);
    network.up();
    window.dispatchEvent(new Event('online'));
    await eventually(() => toasts(tracker).length === 1, 15_000, 'the toast after the return');
    await delay(1000);
    assertEqual(
      said,
      ['polite: Q3 growth program: 50%', 'polite: Q3 growth program: complete'],
      'no milestone of the finished job',
    );
  });

  it('says no milestone that a job passed while the page was hidden, and the next one once it shows', async () => {
    const { client, create } = await testUser('announce-hidden');
    const type = uniqueType('hidden');
    const tracker = await mount(client);
    const said = recordAnnouncements(root(tracker));
    const setVisibility = (state: DocumentVisibilityState) => {
      Object.defineProperty(document, 'visibilityState', { configurable: true, get: () => state });
      document.dispatchEvent(new Event('visibilitychange'));
    };
    const progressKnown = (id: string, value: number) =>
      eventually(() => client.jobStore(id).get()?.progress === value, 10_000, `${value}% known`);
    try {
      const job = await create({ type, title: 'Report' });
      await eventually(() => card(tracker, job.id), 5000, 'the card');
      const worker = await claimJob(type);
      await worker.progress(10);
      await progressKnown(job.id, 10);
      setVisibility('hidden');
      await worker.progress(30);
      await progressKnown(job.id, 30);
      await worker.progress(60);
      await progressKnown(job.id, 60);
      await delay(500);
      setVisibility('visible');
      await worker.progress(80);
      await progressKnown(job.id, 80);
      await delay(800);
      assertEqual(said, ['polite: Report: 75%'], 'only the milestone passed while the page shows');
      await client.cancel(job.id);
    } finally {
      Reflect.deleteProperty(document, 'visibilityState');
    }
  });
});
