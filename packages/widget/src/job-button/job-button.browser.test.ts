/// <reference types="@jobtracker/test-support/mocha" />
import { type JobClient, JobTrackerHttpError } from '@jobtracker/sdk';
import { sendKeys } from '@web/test-runner-commands';
import { de } from '../locales/de.js';
import { fr } from '../locales/fr.js';
import { registerJobLocale } from '../shared/locale.js';
import {
  cachingClients,
  countingUser,
  errorText,
  free,
  gatedPage,
  held,
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
  delay,
  eventually,
  testUser,
  workerCall,
} from '../testing/widget-env.js';

setUpButtonTests();
registerJobLocale('de', de);
registerJobLocale('fr', fr);

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

  it('holds the button (aria-disabled) with "Working… 42%" while a worker reports 42, and frees it after completion', async () => {
    const { client } = await testUser('progress');
    const type = uniqueType('progress');
    const { element, button } = await mount(client, { type, scope: 'doc-1' });
    button.click();
    await eventually(() => element.job, 5000, 'the started job');
    assert(held(button), 'held (aria-disabled) while the job is pending');
    assertEqual(button.getAttribute('aria-busy'), 'true', 'aria-busy while pending');
    assertEqual(statusText(element), 'Working…', 'indeterminate text while pending');
    const worker = await claimJob(type);
    await worker.progress(null, 'Preparing');
    await eventually(() => element.job?.message === 'Preparing', 5000, 'the running job');
    assertEqual(statusText(element), 'Working…', 'indeterminate text while progress is unknown');
    await worker.progress(42, 'Halfway');
    await eventually(() => statusText(element) === 'Working… 42%', 5000, '"Working… 42%"');
    assert(held(button), 'held while running');
    assertEqual(part(element, 'status').getAttribute('role'), 'status', 'status role');
    await worker.complete({ url: '/programs/1' });
    await eventually(() => free(button), 5000, 'the button to be free again');
    assertEqual(button.hasAttribute('aria-busy'), false, 'aria-busy removed');
    assertEqual(statusText(element), '', 'status cleared');
  });

  it("puts the page's own disabled, aria-disabled, aria-busy and aria-description values back when the job ends", async () => {
    const { client, create } = await testUser('restore');
    const type = uniqueType('restore');
    const { element } = await mount(
      client,
      { type },
      '<button type="button" id="own-disabled" disabled>One</button><button type="button" id="own-busy" aria-busy="false">Two</button>' +
        '<button type="button" id="own-aria" aria-disabled="false" aria-description="Makes the Q3 program">Three</button>',
    );
    const ownDisabled = element.querySelector<HTMLButtonElement>('#own-disabled') as HTMLButtonElement;
    const ownBusy = element.querySelector<HTMLButtonElement>('#own-busy') as HTMLButtonElement;
    const ownAria = element.querySelector<HTMLButtonElement>('#own-aria') as HTMLButtonElement;
    await create({ type });
    await eventually(
      () => held(ownBusy) && held(ownAria) && ownDisabled.getAttribute('aria-busy') === 'true',
      5000,
      'all held',
    );
    assertEqual(ownAria.getAttribute('aria-description'), 'Working…', 'the reason while held');
    const worker = await claimJob(type);
    await worker.complete(null);
    await eventually(() => free(ownBusy), 5000, 'the enabled button back');
    assertEqual(ownBusy.getAttribute('aria-busy'), 'false', "the page's aria-busy");
    assertEqual(ownDisabled.disabled, true, "the page's own disabled state");
    assertEqual(ownDisabled.hasAttribute('aria-busy'), false, 'no aria-busy left behind');
    assertEqual(ownDisabled.hasAttribute('aria-disabled'), false, 'no aria-disabled left behind');
    assertEqual(ownAria.getAttribute('aria-disabled'), 'false', "the page's aria-disabled");
    assertEqual(
      ownAria.getAttribute('aria-description'),
      'Makes the Q3 program',
      "the page's aria-description",
    );
  });

  it('is held at once after a reload while the job still runs', async () => {
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
    assert(held(second.button), 'held on the first render');
    assertEqual(second.element.job?.id, job.id, 'the running job');

    // Without a local cache it waits for the server, then disables too.
    const uncached = userClient({ apiUrl, token, user });
    const third = await mount(uncached, { type, scope: 'analysis-7' });
    await eventually(() => held(third.button), 5000, 'held once the server answered');
    assertEqual(statusText(third.element), 'Working…', 'the pending job shown');
  });

  it('is held with its progress right after a real reload of the page, before the network answers', async () => {
    const { apiUrl, token, user } = await testUser('page-reload');
    const type = uniqueType('page-reload');
    storageKeys.push(`jobtracker:${apiUrl}:${user}`, `jobtracker:${apiUrl}:${user}:dismissed`);
    const frame = gatedPage(apiUrl, token, `type="${type}" scope="analysis-7"`);
    const first = await loadedPage(frame);
    first.win.__release();
    assert(free(first.button), 'free before the click');
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
    assert(held(second.button), 'held on the first render after the reload');
    assertEqual(second.button.getAttribute('aria-busy'), 'true', 'aria-busy after the reload');
    assertEqual(statusText(second.element), 'Working… 30%', 'the progress after the reload');
    assertEqual(second.element.job?.id, job.id, 'the running job');
    // The page did ask the server, and none of it has answered yet: all of the above came from the cache.
    await eventually(() => second.win.__requests > 0, 5000, 'the page to ask the server');
    assertEqual(second.win.__answered, 0, 'answers the page has had');
    assert(held(second.button), 'still held while the server has not answered');

    second.win.__release();
    await eventually(() => second.win.__answered > 0, 5000, 'the server to answer');
    await worker.progress(60, 'Still writing');
    await eventually(
      () => statusText(second.element) === 'Working… 60%',
      5000,
      'live progress after the reload',
    );
    await worker.complete({ url: '/programs/1' });
    await eventually(() => free(second.button), 5000, 'the button free when the job ends');
    assertEqual(second.button.hasAttribute('aria-busy'), false, 'aria-busy removed');
    assertEqual(statusText(second.element), '', 'status cleared');
  });

  it('holds another button for the same type and scope elsewhere on the page, but not one for another scope', async () => {
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
    await eventually(() => held(there.button), 5000, 'the other button for the same scope held');
    assertEqual(statusText(there.element), 'Working…', 'its status');
    assert(free(other.button), 'another scope stays free');
    assertEqual(statusText(other.element), '', 'no status for another scope');
  });

  it('follows a job of the new scope when the scope attribute changes', async () => {
    const { client, create } = await testUser('rescope');
    const type = uniqueType('rescope');
    await create({ type, scope: 'doc-2' });
    const { element, button } = await mount(client, { type, scope: 'doc-1' });
    await eventually(() => client.$active.get().length === 1, 5000, 'the client to know the job');
    assert(free(button), 'free for an idle scope');
    element.setAttribute('scope', 'doc-2');
    await eventually(() => held(button), 5000, 'held for the busy scope');
    element.setAttribute('scope', 'doc-3');
    await eventually(() => free(button), 5000, 'free again for an idle scope');
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
    // The API's own words are the developer's (on the event); the user reads the kind of failure.
    assert(error.message.length > 0, "the API's message on the event");
    await eventually(
      () => errorText(element) === 'Could not start: The request was refused.',
      5000,
      'the visible error',
    );
    assertEqual(part(element, 'error').getAttribute('role'), 'alert', 'error role');
    assert(part(element, 'error').getBoundingClientRect().width > 0, 'the error is visible');
    await eventually(() => free(button), 5000, 'free again');
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
    assert(free(button), 'still free');
    assertEqual((element.shadowRoot as ShadowRoot).querySelector('img'), null, 'the text stays text');
    assertEqual((window as { __xss?: unknown }).__xss, undefined, 'no script ran');

    await create({ type });
    await eventually(() => held(button), 5000, 'held by a job started elsewhere');
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
    await eventually(() => free(button), 5000, 'free after the job ended');

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
    assertEqual([errors.length, posts.length, free(button)], [1, 0, true], 'job-error, requests, free');
  });

  it('is reached by Tab and started with Space or Enter, keeping the focus; a busy button stays in the Tab order', async () => {
    const { client } = await testUser('keyboard');
    const before = document.createElement('input');
    before.setAttribute('aria-label', 'Before the buttons');
    document.body.append(before);
    mounted.push(before);
    const spaced = await mount(client, { type: uniqueType('space') });
    const entered = await mount(client, { type: uniqueType('enter') });
    const spaceEvents = recordEvents(spaced.element);
    const enterEvents = recordEvents(entered.element);

    before.focus();
    await sendKeys({ press: 'Tab' });
    assertEqual(document.activeElement, spaced.button, 'Tab reaches the first slotted button');
    await sendKeys({ press: 'Space' });
    await eventually(() => spaceEvents.starts.length === 1, 5000, 'job-start after Space');
    assert(held(spaced.button), 'held while its job runs');
    assertEqual(document.activeElement, spaced.button, 'the focus stays on the button Space pressed');
    await sendKeys({ press: 'Tab' });
    assertEqual(document.activeElement, entered.button, 'Tab goes on to the next button');
    await sendKeys({ press: 'Enter' });
    await eventually(() => enterEvents.starts.length === 1, 5000, 'job-start after Enter');
    assert(held(entered.button), 'held while its job runs');
    assertEqual(document.activeElement, entered.button, 'the focus stays on the button Enter pressed');
    await sendKeys({ down: 'Shift' });
    await sendKeys({ press: 'Tab' });
    await sendKeys({ up: 'Shift' });
    assertEqual(document.activeElement, spaced.button, 'a busy button is still reached by Tab');
    await sendKeys({ press: 'Space' });
    await sendKeys({ press: 'Enter' });
    await delay(300);
    assertEqual(
      [
        spaceEvents.starts.length,
        spaceEvents.errors.length,
        enterEvents.starts.length,
        enterEvents.errors.length,
      ],
      [1, 0, 1, 0],
      'no other start and no error',
    );
  });

  it('keeps the focus on its button when Enter starts the job: aria-disabled with the reason, and activation does nothing meanwhile', async () => {
    const { client, posts } = await countingUser('focus');
    const type = uniqueType('focus');
    const form = document.createElement('form');
    let submits = 0;
    form.addEventListener('submit', (event) => {
      event.preventDefault();
      submits++;
    });
    document.body.append(form);
    mounted.push(form);
    const { element, button } = await mount(
      client,
      { type },
      '<button class="host-button">Generate program</button>',
      form,
    );
    const { starts } = recordEvents(element);
    let pageClicks = 0;
    button.addEventListener('click', () => pageClicks++);
    button.focus();
    await sendKeys({ press: 'Enter' });
    await eventually(() => starts.length === 1 && element.job, 5000, 'the started job');
    assertEqual(
      [pageClicks, submits],
      [1, 1],
      "the page's click listener and the form heard the starting click",
    );
    assertEqual(document.activeElement, button, 'the focus stays on the button');
    assert(held(button), 'aria-disabled="true", not the native disabled that drops the focus');
    assertEqual(button.getAttribute('aria-busy'), 'true', 'aria-busy while the job runs');
    assertEqual(button.getAttribute('aria-description'), 'Working…', 'the reason, for assistive technology');
    await checkAccessibility(element);

    await sendKeys({ press: 'Enter' });
    await sendKeys({ press: 'Space' });
    button.click();
    await delay(300);
    assertEqual(
      [posts.length, starts.length, pageClicks, submits],
      [1, 1, 1, 1],
      'start requests, job-start events, page clicks and form submissions while the job runs',
    );

    const worker = await claimJob(type);
    await worker.progress(42, 'Halfway');
    await eventually(
      () => button.getAttribute('aria-description') === 'Working… 42%',
      5000,
      'the reason follows the progress',
    );
    await worker.complete(null);
    await eventually(() => free(button), 5000, 'the button free when the job ends');
    assertEqual(button.hasAttribute('aria-description'), false, 'no description left behind');
    assertEqual(document.activeElement, button, 'the focus is still on the button');
    button.click();
    await eventually(() => starts.length === 2, 5000, 'a click starts again once the job ended');
  });

  it("respects the page's own disabled state: a disabled or aria-disabled button starts nothing", async () => {
    const { client, posts } = await countingUser('own-disabled');
    const type = uniqueType('own-disabled');
    const { element } = await mount(
      client,
      { type },
      '<button type="button" id="native" disabled>One</button><button type="button" id="aria" aria-disabled="true">Two</button>',
    );
    const { starts, errors } = recordEvents(element);
    const native = element.querySelector<HTMLButtonElement>('#native') as HTMLButtonElement;
    const aria = element.querySelector<HTMLButtonElement>('#aria') as HTMLButtonElement;
    native.click();
    aria.click();
    aria.focus();
    await sendKeys({ press: 'Enter' });
    await delay(300);
    assertEqual([posts.length, starts.length, errors.length], [0, 0, 0], 'requests, job-start, job-error');
    assertEqual(native.disabled, true, "the page's disabled state");
    assertEqual(aria.getAttribute('aria-disabled'), 'true', "the page's aria-disabled state");
  });

  it("says why a start failed in the user's words and language, never in the API's", async () => {
    const user = await testUser('reasons');
    const type = uniqueType('reasons');
    /** A client whose start request gets `status` from a proxy or the API, with an internal message. */
    const answering = (status: number) =>
      userClient(user, {
        fetch: async (input, init) =>
          init?.method === 'POST' && String(input).endsWith('/jobs')
            ? new Response(JSON.stringify({ error: { code: 'x', message: 'Internal: pool 7 exhausted' } }), {
                status,
                headers: { 'Content-Type': 'application/json' },
              })
            : fetch(input, init),
      });
    const expired = userClient({ ...user, token: 'not-a-token' });
    const cases: [client: JobClient, lang: string, expected: string][] = [
      [answering(429), 'en', 'Could not start: Too many requests. Try again shortly.'],
      [answering(503), 'en', 'Could not start: The service is unavailable. Try again shortly.'],
      [
        answering(500),
        'fr',
        'Impossible de démarrer\u00a0: Le service est indisponible. Réessayez dans un instant.',
      ],
      [expired, 'en', 'Could not start: Your session has ended. Sign in again.'],
      [expired, 'de', 'Start fehlgeschlagen: Ihre Sitzung ist abgelaufen. Bitte melden Sie sich erneut an.'],
    ];
    for (const [client, lang, expected] of cases) {
      const { element, button } = await mount(client, { type, lang });
      const { errors } = recordEvents(element);
      button.click();
      await eventually(() => errors.length === 1, 5000, `job-error (${expected})`);
      await eventually(() => errorText(element) === expected, 5000, expected);
      client.clear();
    }
    // Offline, in German: the network's reason, in German.
    user.network.down();
    const { element, button } = await mount(user.client, { type, lang: 'de' });
    button.click();
    await eventually(
      () => errorText(element) === 'Start fehlgeschlagen: Der Server ist nicht erreichbar.',
      5000,
      'the German reason',
    );
    user.network.up();
  });

  it('clears "Could not start" once the connection is back, and when the next start succeeds', async () => {
    const { client, network } = await testUser('stale-error');
    const type = uniqueType('stale-error');
    const { element, button } = await mount(client, { type });
    const { starts } = recordEvents(element);
    await eventually(() => client.$connection.get().state === 'live', 5000, 'the live connection');
    network.down();
    button.click();
    await eventually(
      () => errorText(element) === 'Could not start: The server could not be reached.',
      5000,
      'the error while the API is away',
    );
    network.up();
    await eventually(() => client.$connection.get().state === 'live', 8000, 'the connection back');
    await eventually(() => errorText(element) === '', 2000, 'the error cleared once the connection is back');

    network.down();
    button.click();
    await eventually(() => errorText(element) !== '', 5000, 'the error again');
    network.up();
    button.click();
    await eventually(() => starts.length === 1, 5000, 'the next start');
    assertEqual(errorText(element), '', 'the error cleared by the start that succeeded');
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
