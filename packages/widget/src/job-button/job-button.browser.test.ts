/// <reference types="@jobtracker/test-support/mocha" />
import { JobTrackerHttpError } from '@jobtracker/sdk';
import { sendKeys } from '@web/test-runner-commands';
import {
  cachingClients,
  countingUser,
  errorText,
  gatedPage,
  loadedPage,
  memoryStorage,
  mount,
  mounted,
  part,
  recordEvents,
  recordingUser,
  serverJobs,
  setUpButtonTests,
  statusText,
  storageKeys,
  uniqueType,
} from '../testing/button.js';
import { userClient } from '../testing/user-client.js';
import {
  assert,
  assertEqual,
  checkAccessibility,
  claimJob,
  eventually,
  testUser,
  workerCall,
} from '../testing/widget-env.js';

setUpButtonTests();

describe('<job-button>', () => {
  it('starts exactly one job on a rapid double click and fires job-start once', async () => {
    const { client, posts, apiUrl, token } = await countingUser('double');
    const type = uniqueType('double');
    const { element, button } = await mount(client, {
      type,
      scope: 'analysis-7',
      'job-title': 'Q3 program',
      input: '{"durationMs":5000}',
    });
    const { starts } = recordEvents(element);
    button.click();
    button.click();
    await eventually(() => starts.length > 0 && element.job, 5000, 'job-start and the active job');
    button.click();
    assertEqual(posts.length, 1, 'start requests sent');
    assertEqual(starts.length, 1, 'job-start events');
    assertEqual(starts[0]?.created, true, 'created');
    const jobs = await serverJobs(apiUrl, token);
    assertEqual(jobs.length, 1, 'jobs on the server');
    const [job] = jobs;
    assertEqual(
      [job?.type, job?.scope, job?.title, job?.id],
      [type, 'analysis-7', 'Q3 program', starts[0]?.job.id],
      'the job the server holds',
    );
  });

  it('disables the button with "Working… 42%" while a worker reports 42, and re-enables it after completion', async () => {
    const { client } = await testUser('progress');
    const type = uniqueType('progress');
    const { element, button } = await mount(client, { type, scope: 'doc-1' });
    button.click();
    await eventually(() => element.job, 5000, 'the started job');
    assert(button.disabled, 'disabled while the job is pending');
    assertEqual(button.getAttribute('aria-busy'), 'true', 'aria-busy while pending');
    assertEqual(statusText(element), 'Working…', 'indeterminate text while pending');
    const worker = await claimJob(type);
    await worker.progress(null, 'Preparing');
    await eventually(() => element.job?.message === 'Preparing', 5000, 'the running job');
    assertEqual(statusText(element), 'Working…', 'indeterminate text while progress is unknown');
    await worker.progress(42, 'Halfway');
    await eventually(() => statusText(element) === 'Working… 42%', 5000, '"Working… 42%"');
    assert(button.disabled, 'disabled while running');
    assertEqual(part(element, 'status').getAttribute('role'), 'status', 'status role');
    await worker.complete({ url: '/programs/1' });
    await eventually(() => !button.disabled, 5000, 'the button to be enabled again');
    assertEqual(button.hasAttribute('aria-busy'), false, 'aria-busy removed');
    assertEqual(statusText(element), '', 'status cleared');
  });

  it("puts the page's own disabled and aria-busy values back when the job ends", async () => {
    const { client, create } = await testUser('restore');
    const type = uniqueType('restore');
    const { element } = await mount(
      client,
      { type },
      '<button type="button" id="own-disabled" disabled>One</button><button type="button" id="own-busy" aria-busy="false">Two</button>',
    );
    const ownDisabled = element.querySelector<HTMLButtonElement>('#own-disabled') as HTMLButtonElement;
    const ownBusy = element.querySelector<HTMLButtonElement>('#own-busy') as HTMLButtonElement;
    await create({ type });
    await eventually(
      () => ownBusy.disabled && ownDisabled.getAttribute('aria-busy') === 'true',
      5000,
      'both held',
    );
    const worker = await claimJob(type);
    await worker.complete(null);
    await eventually(() => !ownBusy.disabled, 5000, 'the enabled button back');
    assertEqual(ownBusy.getAttribute('aria-busy'), 'false', "the page's aria-busy");
    assertEqual(ownDisabled.disabled, true, "the page's own disabled state");
    assertEqual(ownDisabled.hasAttribute('aria-busy'), false, 'no aria-busy left behind');
  });

  it('is disabled at once after a reload while the job still runs', async () => {
    const storage = memoryStorage();
    const { client, apiUrl, token, user } = await countingUser('reload', storage);
    const type = uniqueType('reload');
    const first = await mount(client, { type, scope: 'analysis-7' });
    first.button.click();
    const job = await eventually(() => first.element.job, 5000, 'the started job');
    await eventually(
      () => storage.values().some((value) => value.includes(`"id":"${job.id}"`)),
      5000,
      'the client to keep the job',
    );
    first.element.remove();

    // The next page load: a new client (same user and storage) and a new element.
    const reloaded = userClient({ apiUrl, token, user }, { storage });
    cachingClients.push(client, reloaded);
    const second = await mount(reloaded, { type, scope: 'analysis-7' });
    assert(second.button.disabled, 'disabled on the first render');
    assertEqual(second.element.job?.id, job.id, 'the running job');

    // Without a local cache it waits for the server, then disables too.
    const uncached = userClient({ apiUrl, token, user });
    const third = await mount(uncached, { type, scope: 'analysis-7' });
    await eventually(() => third.button.disabled, 5000, 'disabled once the server answered');
    assertEqual(statusText(third.element), 'Working…', 'the pending job shown');
  });

  it('is disabled with its progress right after a real reload of the page, before the network answers', async () => {
    const { apiUrl, token, user } = await testUser('page-reload');
    const type = uniqueType('page-reload');
    storageKeys.push(`jobtracker:${apiUrl}:${user}`, `jobtracker:${apiUrl}:${user}:dismissed`);
    const frame = gatedPage(apiUrl, token, `type="${type}" scope="analysis-7"`);
    const first = await loadedPage(frame);
    first.win.__release();
    assertEqual(first.button.disabled, false, 'enabled before the click');
    first.button.click();
    const job = await eventually(() => first.element.job, 5000, 'the started job');
    const worker = await claimJob(type);
    assertEqual(worker.job.id, job.id, 'the worker runs the job the click started');
    await worker.progress(30, 'Writing');
    await eventually(() => statusText(first.element) === 'Working… 30%', 5000, 'the progress shown');
    // The page keeps what it knows in localStorage (shared with this test page: same origin).
    await eventually(
      () => localStorage.getItem(`jobtracker:${apiUrl}:${user}`)?.includes('"progress":30'),
      5000,
      'the page to keep the job',
    );

    const before = frame.contentDocument;
    frame.contentWindow?.location.reload();
    const second = await loadedPage(frame, before);
    assert(second.element !== first.element, 'a new element after the reload');
    assert(second.button.disabled, 'disabled on the first render after the reload');
    assertEqual(second.button.getAttribute('aria-busy'), 'true', 'aria-busy after the reload');
    assertEqual(statusText(second.element), 'Working… 30%', 'the progress after the reload');
    assertEqual(second.element.job?.id, job.id, 'the running job');
    // The page did ask the server, and none of it has answered yet: all of the above came from the cache.
    await eventually(() => second.win.__requests > 0, 5000, 'the page to ask the server');
    assertEqual(second.win.__answered, 0, 'answers the page has had');
    assert(second.button.disabled, 'still disabled while the server has not answered');

    second.win.__release();
    await eventually(() => second.win.__answered > 0, 5000, 'the server to answer');
    await worker.progress(60, 'Still writing');
    await eventually(
      () => statusText(second.element) === 'Working… 60%',
      5000,
      'live progress after the reload',
    );
    await worker.complete({ url: '/programs/1' });
    await eventually(() => !second.button.disabled, 5000, 'the button enabled when the job ends');
    assertEqual(second.button.hasAttribute('aria-busy'), false, 'aria-busy removed');
    assertEqual(statusText(second.element), '', 'status cleared');
  });

  it('disables another button for the same type and scope elsewhere on the page, but not one for another scope', async () => {
    const { client } = await testUser('elsewhere');
    const type = uniqueType('elsewhere');
    const header = document.createElement('header');
    const footer = document.createElement('footer');
    document.body.append(header, footer);
    mounted.push(header, footer);
    const here = await mount(client, { type, scope: 'doc-1' }, undefined, header);
    const there = await mount(client, { type, scope: 'doc-1' }, undefined, footer);
    const other = await mount(client, { type, scope: 'doc-2' }, undefined, footer);
    here.button.click();
    await eventually(() => there.button.disabled, 5000, 'the other button for the same scope disabled');
    assertEqual(statusText(there.element), 'Working…', 'its status');
    assertEqual(other.button.disabled, false, 'another scope stays enabled');
    assertEqual(statusText(other.element), '', 'no status for another scope');
  });

  it('follows a job of the new scope when the scope attribute changes', async () => {
    const { client, create } = await testUser('rescope');
    const type = uniqueType('rescope');
    await create({ type, scope: 'doc-2' });
    const { element, button } = await mount(client, { type, scope: 'doc-1' });
    await eventually(() => client.$active.get().length === 1, 5000, 'the client to know the job');
    assertEqual(button.disabled, false, 'enabled for an idle scope');
    element.setAttribute('scope', 'doc-2');
    await eventually(() => button.disabled, 5000, 'disabled for the busy scope');
    element.setAttribute('scope', 'doc-3');
    await eventually(() => !button.disabled, 5000, 'enabled again for an idle scope');
  });

  it('shows why the server refused to start and fires job-error', async () => {
    const { client } = await testUser('refused');
    const { element, button } = await mount(client, { type: 'bad type!' });
    const { starts, errors } = recordEvents(element);
    button.click();
    await eventually(() => errors.length === 1, 5000, 'job-error');
    const error = errors[0]?.error;
    assert(error instanceof JobTrackerHttpError, 'a typed HTTP error');
    assertEqual([error.status, error.code], [422, 'invalid_request'], 'status and code');
    await eventually(() => errorText(element).startsWith('Could not start: '), 5000, 'the visible error');
    assert(errorText(element).length > 'Could not start: '.length, 'with a reason');
    assertEqual(part(element, 'error').getAttribute('role'), 'alert', 'error role');
    assert(part(element, 'error').getBoundingClientRect().width > 0, 'the error is visible');
    await eventually(() => !button.disabled, 5000, 'enabled again');
    assertEqual(starts.length, 0, 'no job-start');
    await checkAccessibility(element);
  });

  it('shows an error for invalid input JSON and sends no request', async () => {
    const { client, posts, create } = await countingUser('badinput');
    const type = uniqueType('badinput');
    const { element, button } = await mount(client, {
      type,
      input: '<img src=x onerror="window.__xss=1">{"durationMs":',
    });
    const { errors } = recordEvents(element);
    button.click();
    await eventually(() => errorText(element).includes('not valid JSON'), 5000, 'the input error');
    assertEqual(errors.length, 1, 'job-error');
    assertEqual(posts.length, 0, 'requests sent');
    assertEqual(button.disabled, false, 'still enabled');
    assertEqual((element.shadowRoot as ShadowRoot).querySelector('img'), null, 'the text stays text');
    assertEqual((window as { __xss?: unknown }).__xss, undefined, 'no script ran');

    await create({ type });
    await eventually(() => button.disabled, 5000, 'disabled by a job started elsewhere');
    assertEqual(errorText(element), '', 'the earlier error cleared');
  });

  it('creates the job with exactly the input JSON it was given', async () => {
    const { client } = await testUser('input');
    const type = uniqueType('input');
    const input = {
      durationMs: 5000,
      label: 'Q3 <b>program</b> "draft" ü',
      steps: [1, 2.5, -3, null, true, false, 'four'],
      nested: { empty: {}, list: [], deep: { zero: 0 } },
    };
    const { element, button } = await mount(client, { type, input: JSON.stringify(input) });
    const { starts } = recordEvents(element);
    button.click();
    await eventually(() => starts.length === 1, 5000, 'job-start');
    // The API gives a job's input to the worker that claims it.
    const claimed = await workerCall<{ job: { id: string }; input: unknown }>('/claim', {
      types: [type],
      leaseMs: 60_000,
    });
    assertEqual(claimed.status, 200, 'claim status');
    assertEqual(claimed.json.job.id, starts[0]?.job.id, 'the claimed job');
    assertEqual(claimed.json.input, input, 'the input on the server');
  });

  it('sends its idempotency-key as the Idempotency-Key header, and a second start with that key gives the same job', async () => {
    const { client, posts, apiUrl, token } = await recordingUser('idempotent');
    const type = uniqueType('idempotent');
    const key = `export-${crypto.randomUUID()}`;
    const { element, button } = await mount(client, { type, 'idempotency-key': key });
    const { starts } = recordEvents(element);
    button.click();
    await eventually(() => starts.length === 1 && element.job, 5000, 'the first start');
    assertEqual(starts[0]?.created, true, 'the first start creates the job');
    // End the job, so that only the key (not the dedupe of an active job) can return it again.
    const worker = await claimJob(type);
    await worker.complete({ url: '/exports/1' });
    await eventually(() => !button.disabled, 5000, 'enabled after the job ended');

    button.click();
    await eventually(() => starts.length === 2, 5000, 'the second start');
    assertEqual(starts[1]?.created, false, 'the second start creates nothing');
    assertEqual(starts[1]?.job.id, starts[0]?.job.id, 'the same job');
    assertEqual(starts[1]?.job.status, 'completed', 'the job as it is now');
    assertEqual(
      posts.map((headers) => headers.get('Idempotency-Key')),
      [key, key],
      'the Idempotency-Key header of each start request',
    );
    assertEqual(
      (await serverJobs(apiUrl, token)).map((job) => job.id),
      [starts[0]?.job.id],
      'jobs on the server',
    );
  });

  it('shows an error and sends no request when no type is set', async () => {
    const { client, posts } = await countingUser('notype');
    const { element, button } = await mount(client, {});
    const { errors } = recordEvents(element);
    button.click();
    await eventually(() => errorText(element) === 'Could not start: no job type is set', 5000, 'the error');
    assertEqual(
      [errors.length, posts.length, button.disabled],
      [1, 0, false],
      'job-error, requests, disabled',
    );
  });

  it('is reached by Tab and started with Space or Enter; a disabled button is skipped', async () => {
    const { client } = await testUser('keyboard');
    const before = document.createElement('input');
    before.setAttribute('aria-label', 'Before the buttons');
    document.body.append(before);
    mounted.push(before);
    const spaced = await mount(client, { type: uniqueType('space') });
    const entered = await mount(client, { type: uniqueType('enter') });
    const spaceEvents = recordEvents(spaced.element);
    const enterEvents = recordEvents(entered.element);

    const presses = [
      { key: 'Space', pressed: spaced, events: spaceEvents, reached: 'Tab reaches the first slotted button' },
      { key: 'Enter', pressed: entered, events: enterEvents, reached: 'Tab skips the disabled button' },
    ];
    for (const { key, pressed, events, reached } of presses) {
      before.focus();
      await sendKeys({ press: 'Tab' });
      assertEqual(document.activeElement, pressed.button, reached);
      await sendKeys({ press: key });
      await eventually(() => events.starts.length === 1, 5000, `job-start after ${key}`);
      assert(pressed.button.disabled, 'disabled while its job runs');
    }
    assertEqual(
      [spaceEvents.starts.length, spaceEvents.errors.length, enterEvents.errors.length],
      [1, 0, 0],
      'no other start and no error',
    );
  });

  it('passes the accessibility check while idle and while working', async () => {
    const { client } = await testUser('a11y');
    const { element, button } = await mount(client, { type: uniqueType('a11y') });
    await checkAccessibility(element);
    button.click();
    await eventually(() => element.job, 5000, 'the started job');
    await checkAccessibility(element);
  });

  it('uses replacement messages', async () => {
    const { client } = await testUser('messages');
    const { element, button } = await mount(client, { type: uniqueType('messages') });
    element.messages = { buttonProgress: (percent) => `Läuft ${percent ?? '…'}` };
    button.click();
    await eventually(() => statusText(element) === 'Läuft …', 5000, 'the replaced progress text');
  });
});
