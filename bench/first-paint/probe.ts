/** First-paint benchmark: the script that runs in every page before its own and records when the job card is painted. */
/** What the init script records in each page, in ms since the navigation started (performance.timeOrigin). */
export interface PaintMarks {
  /** `customElements.whenDefined('job-tracker')` resolved. */
  defined: number | null;
  /** The first `[part="card"]` in the `<job-tracker>` shadow root was seen (MutationObserver / check). */
  card: number | null;
  /** The first requestAnimationFrame after the card appeared: the frame that paints it. */
  frame: number | null;
  /** A task posted from that frame: the frame has been produced by then. */
  afterFrame: number | null;
  /** Snapshot keys the baseline's clearing found and removed (before the page's scripts / at readyState interactive). */
  cleared: number;
  clearedLate: number;
}

declare global {
  interface Window {
    __paint?: PaintMarks;
  }
}

/** Runs in every page before its scripts: watches the tracker's shadow root for the first job card. */
export function installProbe(options: { clearSnapshot: boolean; prefix: string }): void {
  const marks: PaintMarks = {
    defined: null,
    card: null,
    frame: null,
    afterFrame: null,
    cleared: 0,
    clearedLate: 0,
  };
  window.__paint = marks;
  const clear = () => {
    let removed = 0;
    for (const key of Object.keys(localStorage)) {
      if (key.startsWith(options.prefix)) {
        localStorage.removeItem(key);
        removed++;
      }
    }
    return removed;
  };
  if (options.clearSnapshot) {
    marks.cleared = clear();
    // Module scripts run after parsing ends (readyState "interactive"): clear once more just before
    // them, in case the previous page wrote its snapshot on pagehide after this script ran.
    document.addEventListener('readystatechange', () => {
      if (document.readyState === 'interactive') marks.clearedLate = clear();
    });
  }
  const seen = () => {
    if (marks.card !== null) return;
    const root = document.querySelector('job-tracker')?.shadowRoot;
    if (!root?.querySelector('[part="card"]')) return;
    marks.card = performance.now();
    requestAnimationFrame(() => {
      marks.frame = performance.now();
      const channel = new MessageChannel();
      channel.port1.onmessage = () => {
        marks.afterFrame = performance.now();
      };
      channel.port2.postMessage(null);
    });
  };
  customElements.whenDefined('job-tracker').then(() => {
    marks.defined = performance.now();
    seen();
    const host = document.querySelector('job-tracker');
    const watch = (root: ShadowRoot) => {
      const observer = new MutationObserver(() => {
        seen();
        if (marks.card !== null) observer.disconnect();
      });
      observer.observe(root, { childList: true, subtree: true });
    };
    if (marks.card === null && host?.shadowRoot) watch(host.shadowRoot);
    else if (marks.card === null) {
      // No shadow root yet: poll once a frame until there is one.
      const poll = () => {
        if (marks.card !== null) return;
        if (host?.shadowRoot) {
          seen();
          watch(host.shadowRoot);
        } else requestAnimationFrame(poll);
      };
      requestAnimationFrame(poll);
    }
  });
}
