// What the <job-button> browser tests share: mounting, reading its parts, clients that record their
// requests, and a plain page whose requests wait until the test lets them through.
import type { JobClient, JobListResponse, KeyValueStorage } from '@jobtracker/sdk';
import { JobButton } from '../job-button/job-button.js';
import type { JobErrorEvent, JobStartEvent } from '../shared/events.js';
import { setUpElementTests } from './element-tests.js';
import { userClient } from './user-client.js';
import { assert, assertEqual, eventually, testUser } from './widget-env.js';

export const mounted: HTMLElement[] = [];
export const storageKeys: string[] = [];
/**
 * Clients that keep a cache, cleared after each test (as the list tests do): a client whose cache still
 * has a save waiting reads its stores when the save runs, which connects it again after its elements left.
 */
export const cachingClients: JobClient[] = [];

/** A job type no other test uses, so `claimJob` only ever picks this test's job. */
export const uniqueType = (name: string) => `button.${name}.${crypto.randomUUID().slice(0, 8)}`;

export async function mount(
  client: JobClient | undefined,
  attributes: Record<string, string>,
  buttonHtml = '<button type="button" class="host-button">Generate program</button>',
  parent: HTMLElement = document.body,
): Promise<{ element: JobButton; button: HTMLButtonElement }> {
  const element = document.createElement('job-button');
  for (const [name, value] of Object.entries(attributes)) element.setAttribute(name, value);
  if (client) element.client = client;
  element.innerHTML = buttonHtml;
  parent.append(element);
  if (parent === document.body) mounted.push(element);
  await element.updateComplete;
  const button = element.querySelector('button');
  assert(button, 'the slotted button');
  return { element, button };
}

export const part = (element: JobButton, name: string) =>
  (element.shadowRoot as ShadowRoot).querySelector<HTMLElement>(`[part="${name}"]`) as HTMLElement;
export const statusText = (element: JobButton) => part(element, 'status').textContent ?? '';
export const errorText = (element: JobButton) => part(element, 'error').textContent ?? '';
/**
 * Whether the element holds the page's button for a running job: `aria-disabled="true"`, and not the
 * native `disabled`, which would drop the focus to the page's body.
 */
export const held = (button: HTMLButtonElement) =>
  button.getAttribute('aria-disabled') === 'true' && !button.disabled;
/** Whether the button is free again: neither held by the element nor disabled. */
export const free = (button: HTMLButtonElement) => !button.hasAttribute('aria-disabled') && !button.disabled;

export function recordEvents(element: HTMLElement) {
  const starts: JobStartEvent[] = [];
  const errors: JobErrorEvent[] = [];
  element.addEventListener('job-start', (event) => starts.push(event));
  element.addEventListener('job-error', (event) => errors.push(event));
  return { starts, errors };
}

/** A user whose client counts the POSTs it sends (the start requests). */
export async function countingUser(prefix: string, storage: KeyValueStorage | null = null) {
  const user = await testUser(prefix);
  const posts: string[] = [];
  const client = userClient(user, {
    storage,
    fetch: (input, init) => {
      if (init?.method === 'POST') posts.push(String(input));
      return fetch(input, init);
    },
  });
  return { ...user, client, posts };
}

/** A user whose client records the headers of every POST it sends (the start requests). */
export async function recordingUser(prefix: string) {
  const user = await testUser(prefix);
  const posts: Headers[] = [];
  const client = userClient(user, {
    fetch: (input, init) => {
      if (init?.method === 'POST') posts.push(new Headers(init.headers));
      return fetch(input, init);
    },
  });
  return { ...user, client, posts };
}

/** The window of the page in the iframe, with the request gate its inline script installs. */
export type GatedWindow = Window & {
  /** Lets the held requests, and every later one, through. */
  __release(): void;
  __requests: number;
  __answered: number;
};

/**
 * A plain page in a same-origin iframe: the endpoint and token in meta tags, the self-contained file,
 * and a `<job-button>` around the page's own button. An inline script holds every request the page
 * makes until the test calls `__release()`, on each load of the page (the first one and each reload),
 * so the test can tell what the page shows before the network answered.
 */
export function gatedPage(apiUrl: string, token: string, attributes: string): HTMLIFrameElement {
  const frame = document.createElement('iframe');
  frame.srcdoc = `<!doctype html><html lang="en"><head><title>Page</title>
    <meta name="jobtracker-endpoint" content="${apiUrl}">
    <meta name="jobtracker-token" content="${token}">
    <script>
      const realFetch = window.fetch.bind(window);
      let open;
      const gate = new Promise((resolve) => { open = resolve; });
      window.__requests = 0;
      window.__answered = 0;
      window.__release = () => open();
      window.fetch = (...args) => {
        window.__requests++;
        return gate.then(() => realFetch(...args)).then((response) => {
          window.__answered++;
          return response;
        });
      };
    </script>
    <script type="module" src="/packages/widget/dist/jobtracker.min.js"></script>
    </head><body>
    <job-button ${attributes}><button type="button">Generate program</button></job-button>
    </body></html>`;
  document.body.append(frame);
  mounted.push(frame);
  return frame;
}

/** Waits for the page in `frame` (a document other than `previous`) to have its `<job-button>` rendered. */
export async function loadedPage(frame: HTMLIFrameElement, previous: Document | null = null) {
  const page = await eventually(
    () => {
      const doc = frame.contentDocument;
      return doc && doc !== previous && doc.defaultView?.customElements.get('job-button') ? doc : null;
    },
    8000,
    'the page with its elements defined',
  );
  const element = page.querySelector('job-button') as JobButton;
  await element.updateComplete;
  const button = element.querySelector('button') as HTMLButtonElement;
  return { win: page.defaultView as unknown as GatedWindow, element, button };
}

/** The user's jobs as the server holds them. */
export async function serverJobs(apiUrl: string, token: string) {
  const response = await fetch(`${apiUrl}/jobs`, { headers: { Authorization: `Bearer ${token}` } });
  assertEqual(response.status, 200, 'GET /jobs status');
  return ((await response.json()) as JobListResponse).jobs;
}

/** A `localStorage` stand-in that two clients can share, as two page loads share the real one. */
export function memoryStorage(): KeyValueStorage & { values(): string[] } {
  const items = new Map<string, string>();
  return {
    getItem: (key) => items.get(key) ?? null,
    setItem: (key, value) => void items.set(key, value),
    removeItem: (key) => void items.delete(key),
    values: () => [...items.values()],
  };
}

/** For a `<job-button>` test file: defines the element, and clears the page after each test. */
export function setUpButtonTests() {
  setUpElementTests(
    'job-button',
    JobButton,
    () => {
      for (const element of mounted.splice(0)) element.remove();
      for (const client of cachingClients.splice(0)) client.clear();
      for (const key of storageKeys.splice(0)) localStorage.removeItem(key);
      Reflect.deleteProperty(window, '__xss');
    },
    8000,
  );
}
