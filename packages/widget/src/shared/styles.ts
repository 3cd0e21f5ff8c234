import { css } from 'lit';

/** The dark theme's values, for `prefers-color-scheme: dark` and for `theme="dark"`. */
const darkPalette = css`
  --job-bg: #1c2128;
  --job-fg: #e6edf3;
  --job-muted: #9198a1;
  --job-border: #3d444d;
  --job-accent: #4493f8;
  --job-accent-fg: #0d1117;
  --job-success: #3fb950;
  --job-danger: #f85149;
  --job-track: #2d333b;
  --job-shadow: 0 8px 24px rgb(0 0 0 / 0.5);
`;

/**
 * Design tokens: override any `--job-*` property on the element itself, e.g. from the page's CSS
 * `job-tracker { --job-accent: teal }` (a page rule beats `:host`). A value set on an ancestor only
 * (`:root { … }`) does not reach inside: `:host` sets every token on the element.
 */
export const tokens = css`
  :host {
    --job-font: system-ui, -apple-system, 'Segoe UI', Roboto, sans-serif;
    --job-bg: #ffffff;
    --job-fg: #1b1f24;
    --job-muted: #59636e;
    --job-border: #d1d9e0;
    --job-accent: #0969da;
    --job-accent-fg: #ffffff;
    --job-success: #1a7f37;
    --job-danger: #cf222e;
    --job-track: #e6eaef;
    --job-radius: 10px;
    --job-shadow: 0 8px 24px rgb(0 0 0 / 0.14);
    --job-gap: 0.5rem;
    font-family: var(--job-font);
    color: var(--job-fg);
  }
  @media (prefers-color-scheme: dark) {
    :host(:not([theme='light'])) {
      ${darkPalette}
    }
  }
  :host([theme='dark']) {
    ${darkPalette}
  }
`;

/** Cards, progress bars and buttons shared by the tracker and the list. */
export const cardStyles = css`
  .card {
    display: grid;
    gap: 0.35rem;
    padding: 0.75rem 0.9rem;
    border: 1px solid var(--job-border);
    border-radius: var(--job-radius);
    background: var(--job-bg);
    font-size: 0.875rem;
    line-height: 1.4;
  }
  .head {
    display: flex;
    gap: 0.5rem;
    align-items: baseline;
    min-width: 0;
  }
  .label {
    font-weight: 600;
  }
  .title,
  .message,
  .timing,
  .summary {
    color: var(--job-muted);
    overflow-wrap: anywhere;
  }
  .error {
    color: var(--job-danger);
    overflow-wrap: anywhere;
  }
  .meta {
    display: flex;
    justify-content: space-between;
    gap: 0.5rem;
  }
  .percent {
    font-variant-numeric: tabular-nums;
    font-weight: 600;
  }
  .timing {
    font-size: 0.8rem;
  }
  .bar {
    position: relative;
    height: 6px;
    border-radius: 3px;
    background: var(--job-track);
    overflow: hidden;
  }
  .fill {
    height: 100%;
    background: var(--job-accent);
    border-radius: inherit;
    transition: width 0.4s ease;
  }
  .bar.indeterminate .fill {
    position: absolute;
    width: 35%;
    animation: job-slide 1.4s ease-in-out infinite;
  }
  @keyframes job-slide {
    from {
      left: -35%;
    }
    to {
      left: 100%;
    }
  }
  @media (prefers-reduced-motion: reduce) {
    .fill {
      transition: none;
    }
    .bar.indeterminate .fill {
      animation: none;
      left: 0;
      width: 100%;
      opacity: 0.45;
    }
  }
  .actions {
    display: flex;
    flex-wrap: wrap;
    gap: var(--job-gap);
    align-items: center;
  }
  .actions:empty {
    display: none;
  }
  button,
  .link {
    font: inherit;
    font-size: 0.8rem;
    padding: 0.25rem 0.6rem;
    border-radius: 6px;
    border: 1px solid var(--job-border);
    background: transparent;
    color: var(--job-fg);
    cursor: pointer;
    text-decoration: none;
  }
  .link {
    background: var(--job-accent);
    border-color: var(--job-accent);
    color: var(--job-accent-fg);
  }
  button:focus-visible,
  .link:focus-visible {
    outline: 2px solid var(--job-accent);
    outline-offset: 2px;
  }
  .card.completed {
    border-left: 4px solid var(--job-success);
  }
  .card.failed {
    border-left: 4px solid var(--job-danger);
  }
`;
