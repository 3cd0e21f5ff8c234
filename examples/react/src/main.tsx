// The seed story as a React single-page app: client-side routing, the elements for the UI, and the
// SDK's stores where a React developer would reach for them.
import '@jobtracker/widget/define';
import '@jobtracker/widget/react';
import type { JobClient } from '@jobtracker/sdk';
import { configureJobTracker } from '@jobtracker/widget';
import type { ReadableAtom } from 'nanostores';
import {
  type MouseEvent,
  type ReactNode,
  StrictMode,
  useCallback,
  useEffect,
  useState,
  useSyncExternalStore,
} from 'react';
import { createRoot } from 'react-dom/client';

const client: JobClient = configureJobTracker({ baseUrl: '/api' });
const BASE = '/react';
// React 19 sets properties on custom elements: `types` takes the object itself.
const TYPES = {
  'demo.generate': { label: 'Program generation', href: `${BASE}/programs`, linkLabel: 'Go to Programs' },
};

/** A nanostore as React state. */
function useStore<T>(store: ReadableAtom<T>): T {
  return useSyncExternalStore(store.listen, store.get, store.get);
}

/** The link a plain left click follows inside this app, also from an element's shadow root (the tracker's View). */
function appLink(event: globalThis.MouseEvent): string | null {
  if (
    event.defaultPrevented ||
    event.button !== 0 ||
    event.metaKey ||
    event.ctrlKey ||
    event.shiftKey ||
    event.altKey
  )
    return null;
  const anchor = event
    .composedPath()
    .find((node): node is HTMLAnchorElement => node instanceof HTMLAnchorElement);
  if (!anchor || (anchor.target && anchor.target !== '_self') || anchor.hasAttribute('download')) return null;
  const url = new URL(anchor.href, location.href);
  return url.origin === location.origin && url.pathname.startsWith(`${BASE}/`) ? url.pathname : null;
}

function usePath(): [string, (to: string) => void] {
  const [path, setPath] = useState(location.pathname);
  const go = useCallback((to: string) => {
    history.pushState(null, '', to);
    setPath(to);
  }, []);
  useEffect(() => {
    const onPop = () => setPath(location.pathname);
    const onClick = (event: globalThis.MouseEvent) => {
      const to = appLink(event);
      if (to === null) return;
      event.preventDefault();
      go(to);
    };
    addEventListener('popstate', onPop);
    document.addEventListener('click', onClick);
    return () => {
      removeEventListener('popstate', onPop);
      document.removeEventListener('click', onClick);
    };
  }, [go]);
  return [path, go];
}

function Link({
  to,
  go,
  current,
  children,
}: {
  to: string;
  go: (to: string) => void;
  current: string;
  children: ReactNode;
}) {
  const onClick = (event: MouseEvent) => {
    event.preventDefault();
    go(to);
  };
  return (
    <a href={to} onClick={onClick} aria-current={current === to ? 'page' : undefined}>
      {children}
    </a>
  );
}

function Analysis() {
  const running = useStore(client.activeFor('demo.generate', 'react-analysis'));
  return (
    <section>
      <h2>Market analysis: Q3 growth</h2>
      <p>
        {running
          ? `Generating “${running.title}”… you can keep browsing.`
          : 'Turn this analysis into a program.'}
      </p>
      <job-button
        type="demo.generate"
        scope="react-analysis"
        job-title="React program"
        input={JSON.stringify({ durationMs: Number(document.body.dataset.durationMs ?? 20000) })}
      >
        <button className="primary" type="button">
          Generate program
        </button>
      </job-button>
    </section>
  );
}

function Programs() {
  const active = useStore(client.$active);
  return (
    <>
      <section>
        <h2>In progress ({active.length})</h2>
        <job-list status="active" type="demo.generate" />
      </section>
      <section>
        <h2>Recently generated</h2>
        <job-list
          status="completed,failed"
          type="demo.generate"
          limit={5}
          result-url={`${BASE}/programs/{id}`}
        />
      </section>
    </>
  );
}

function Program({ id }: { id: string }) {
  const job = useStore(client.jobStore(id));
  if (!job) return <p>Loading…</p>;
  const summary =
    job.result && typeof job.result === 'object' && !Array.isArray(job.result) ? job.result.summary : null;
  return (
    <section>
      <h2>{job.title}</h2>
      <p>Status: {job.status}</p>
      {typeof summary === 'string' ? <p>{summary}</p> : null}
    </section>
  );
}

function App() {
  const [path, go] = usePath();
  const program = /^\/react\/programs\/([0-9a-z]{26})$/.exec(path)?.[1];
  const page = program ? (
    <Program id={program} />
  ) : path === `${BASE}/programs` ? (
    <Programs />
  ) : path === `${BASE}/settings` ? (
    <p>Settings</p>
  ) : (
    <Analysis />
  );
  return (
    <>
      <header>
        <nav aria-label="Main">
          <strong>Acme Planner (React)</strong>
          <Link to={`${BASE}/`} go={go} current={path}>
            Analysis
          </Link>
          <Link to={`${BASE}/programs`} go={go} current={path}>
            Programs <job-badge type="demo.generate" />
          </Link>
          <Link to={`${BASE}/settings`} go={go} current={path}>
            Settings
          </Link>
        </nav>
      </header>
      <main>{page}</main>
      <job-tracker types={TYPES} result-url={`${BASE}/programs/{id}`} />
    </>
  );
}

createRoot(document.getElementById('root') as HTMLElement).render(
  <StrictMode>
    <App />
  </StrictMode>,
);
