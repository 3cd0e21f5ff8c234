// What the <job-tracker> browser tests share: mounting, finding its parts, the keyboard, live regions.
import type { JobClient } from '@jobtracker/sdk';
import { sendKeys } from '@web/test-runner-commands';
import { JobTracker } from '../job-tracker/job-tracker.js';
import { defineElement } from '../shared/define.js';
import { recordRegion } from './announcements.js';
import { disconnectTestClients, eventually, streamsClosed } from './widget-env.js';

/** What a test put on the page: removed after each test by `unmountAll`. */
export const mounted: { element: HTMLElement; stop?: () => void }[] = [];

export async function mount(client: JobClient, attributes: Record<string, string> = {}): Promise<JobTracker> {
  const element = document.createElement('job-tracker');
  for (const [name, value] of Object.entries(attributes)) element.setAttribute(name, value);
  element.client = client;
  document.body.append(element);
  mounted.push({ element });
  await element.updateComplete;
  return element;
}

export const root = (element: JobTracker) => element.shadowRoot as ShadowRoot;
export const card = (element: JobTracker, id: string) =>
  root(element).querySelector<HTMLElement>(`[data-job-id="${id}"].card`);
export const toasts = (element: JobTracker) => [...root(element).querySelectorAll<HTMLElement>('.toast')];
export const button = (scope: ParentNode, part: string) =>
  scope.querySelector<HTMLButtonElement>(`[part="${part}"]`);
export const notice = (element: JobTracker) =>
  root(element).querySelector<HTMLElement>('[part="connection"]');
export const focusedPart = (element: JobTracker) => root(element).activeElement?.getAttribute('part') ?? null;
/** Waits until the focus is inside the tracker (`what` names the step, for the timeout's message). */
export const focusStaysIn = (element: JobTracker, what: string) =>
  eventually(() => focusedPart(element) !== null, 2000, what);
export const focusedJob = (element: JobTracker) =>
  root(element).activeElement?.closest<HTMLElement>('[data-job-id]')?.dataset.jobId ?? null;
export const politeRegion = (element: JobTracker) =>
  root(element).querySelector('[aria-live="polite"]') as Element;
export const assertiveRegion = (element: JobTracker) =>
  root(element).querySelector('[aria-live="assertive"]') as Element;
// Collapses the template's whitespace, not the no-break spaces that Intl puts in numbers.
export const text = (element: Element | null | undefined) =>
  element?.textContent?.replace(/[ \t\n\r]+/g, ' ').trim();

/** A button of the page itself, outside the tracker, where the user's focus can be. */
export function pageButton(label: string): HTMLButtonElement {
  const element = document.createElement('button');
  element.textContent = label;
  document.body.append(element);
  mounted.push({ element });
  return element;
}

export const press = (key: string) => sendKeys({ press: key });
export async function shiftTab() {
  await sendKeys({ down: 'Shift' });
  try {
    await sendKeys({ press: 'Tab' });
  } finally {
    await sendKeys({ up: 'Shift' });
  }
}

/** Every text the tracker's live region says, in order (it reads each announcement added to it). */
export const recordSaid = recordRegion;

/** For a `<job-tracker>` test file: defines the element, and clears the page after each test. */
export function setUpTrackerTests() {
  defineElement('job-tracker', JobTracker);
  afterEach(unmountAll);
}

/** After each test: takes its elements off the page and waits until its clients' streams closed. */
async function unmountAll() {
  for (const { element } of mounted.splice(0)) element.remove();
  Reflect.deleteProperty(window, '__xss');
  disconnectTestClients();
  await streamsClosed();
}
