// Plain pages that load the built drop-in file (packages/widget/dist/jobtracker.min.js) with one script tag.
import { eventually } from './widget-env.js';

export const DROP_IN_URL = '/packages/widget/dist/jobtracker.min.js';
const DIST = '/packages/widget/dist/';

const frames: HTMLIFrameElement[] = [];
const storageKeys: string[] = [];

/** Removes the pages and the page-wide clients' caches (call after each test). */
export function removeDropInPages(): void {
  for (const frame of frames.splice(0)) frame.remove();
  for (const key of storageKeys.splice(0)) localStorage.removeItem(key);
}

export interface PageUser {
  apiUrl: string;
  token: string;
  user: string;
}

/**
 * A server-rendered page in a same-origin iframe: the endpoint and a short-lived token of `user` in meta
 * tags, one script tag for the drop-in file, then `head` and `body`. Every `fetch` of the page is logged
 * with its `Authorization` header (`requestsOf`). Resolves once `<job-tracker>` is defined. `lang` is `<html lang>`.
 */
export async function dropInPage(user: PageUser, head: string, body: string, lang = 'en'): Promise<Document> {
  // The page-wide client keeps its cache in localStorage, which the iframe shares with this page.
  storageKeys.push(
    `jobtracker:${user.apiUrl}:${user.user}`,
    `jobtracker:${user.apiUrl}:${user.user}:dismissed`,
  );
  const frame = document.createElement('iframe');
  frame.srcdoc = `<!doctype html><html lang="${lang}"><head><title>Programs</title>
    <meta name="jobtracker-endpoint" content="${user.apiUrl}">
    <meta name="jobtracker-token" content="${user.token}">
    <script>
      window.__requests = [];
      const realFetch = window.fetch.bind(window);
      window.fetch = (input, init) => {
        const request = new Request(input, init);
        window.__requests.push({ url: request.url, authorization: request.headers.get('Authorization') });
        return realFetch(input, init);
      };
    </script>
    <script type="module" src="${DROP_IN_URL}"></script>
    ${head}
    </head><body>${body}</body></html>`;
  // Wide enough that the tracker does not start collapsed, as on a small screen.
  frame.style.cssText = 'width: 1000px; height: 700px';
  document.body.append(frame);
  frames.push(frame);
  return eventually(
    () => {
      const doc = frame.contentDocument;
      return doc?.defaultView?.customElements.get('job-tracker') ? doc : null;
    },
    8000,
    'the elements to be defined',
  );
}

/** The page's `fetch` calls so far: URL and `Authorization` header. */
export const requestsOf = (page: Document): { url: string; authorization: string | null }[] =>
  (page.defaultView as unknown as { __requests: { url: string; authorization: string | null }[] }).__requests;

/** The files of the widget's dist folder that the page fetched, as paths under it (`jobtracker.min.js`, `chunks/…`). */
export const distFilesOf = (page: Document): string[] =>
  (page.defaultView?.performance.getEntriesByType('resource') ?? [])
    .map((entry) => new URL(entry.name).pathname)
    .filter((path) => path.startsWith(DIST))
    .map((path) => path.slice(DIST.length))
    .sort();

/** Waits until `tag` is defined in the page (its chunk arrived). */
export const definedIn = (page: Document, tag: string) =>
  eventually(() => page.defaultView?.customElements.get(tag), 8000, `<${tag}> to be defined`);
