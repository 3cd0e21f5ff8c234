/// <reference path="../../sdk/src/testing/mocha.d.ts" />
import type { JobBadge } from './job-badge/job-badge.js';
import type { JobTracker } from './job-tracker/job-tracker.js';
import { assertEqual, claimJob, eventually, streamsClosed, testUser } from './testing/widget-env.js';

const frames: HTMLIFrameElement[] = [];
afterEach(async () => {
  for (const frame of frames.splice(0)) frame.remove();
  await streamsClosed();
});

describe('the self-contained file', () => {
  it('works in a plain HTML page with one script tag and two tags', async () => {
    const { apiUrl, token, create } = await testUser('plain');
    const frame = document.createElement('iframe');
    // A server-rendered page: the endpoint and a short-lived token in meta tags, one script, the tags.
    frame.srcdoc = `<!doctype html><html lang="en"><head>
      <meta name="jobtracker-endpoint" content="${apiUrl}">
      <meta name="jobtracker-token" content="${token}">
      <script type="module" src="/packages/widget/dist/jobtracker.min.js"></script>
      </head><body>
      <nav><a href="#">Programs <job-badge></job-badge></a></nav>
      <job-tracker></job-tracker>
      </body></html>`;
    // Wide enough that the tracker does not start collapsed, as on a small screen.
    frame.style.cssText = 'width: 1000px; height: 700px';
    document.body.append(frame);
    frames.push(frame);
    const page = await eventually(
      () => {
        const doc = frame.contentDocument;
        return doc?.defaultView?.customElements.get('job-tracker') ? doc : null;
      },
      8000,
      'the elements to be defined',
    );
    const job = await create({ type: 'plain.page', title: 'Plain page job' });
    const worker = await claimJob('plain.page');
    await worker.progress(30, 'Working');
    const tracker = page.querySelector('job-tracker') as JobTracker;
    const badge = page.querySelector('job-badge') as JobBadge;
    await eventually(
      () =>
        tracker.shadowRoot?.querySelector(`[data-job-id="${job.id}"] [part="percent"]`)?.textContent ===
        '30%',
      8000,
      'the tracker to show the job',
    );
    await eventually(() => badge.shadowRoot?.textContent?.includes('1'), 5000, 'the badge to count it');
    assertEqual(
      tracker.shadowRoot?.querySelector(`[data-job-id="${job.id}"] [part="label"]`)?.textContent,
      'Plain page job',
      'label (the title)',
    );
    await worker.complete({ url: '/done' });
    await eventually(() => tracker.shadowRoot?.querySelector('[part="toast"]'), 5000, 'the toast');
  });
});
