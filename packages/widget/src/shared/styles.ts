import { css } from 'lit';

/** The dark theme's values, for `prefers-color-scheme: dark` and for `theme="dark"`. */
const darkPalette = css`
  --jt-bg: var(--job-bg, #1c2128);
  --jt-fg: var(--job-fg, #e6edf3);
  --jt-muted: var(--job-muted, #9198a1);
  --jt-border: var(--job-border, #3d444d);
  --jt-accent: var(--job-accent, #4493f8);
  --jt-accent-fg: var(--job-accent-fg, #0d1117);
  --jt-success: var(--job-success, #3fb950);
  --jt-danger: var(--job-danger, #f85149);
  --jt-warning: var(--job-warning, #d29922);
  --jt-track: var(--job-track, #2d333b);
  --jt-shadow: var(--job-shadow, 0 8px 24px rgb(0 0 0 / 0.5));
`;

/**
 * Design tokens: set any `--job-*` property on the page, for every element (`:root { --job-accent:
 * teal }`) or for one (`job-tracker { --job-radius: 0 }`). Inside, the styles read `--jt-*`, which take
 * the page's value when there is one and the theme's default otherwise.
 */
export const tokens = css`
  :host {
    --jt-font: var(--job-font, system-ui, -apple-system, 'Segoe UI', Roboto, sans-serif);
    --jt-bg: var(--job-bg, #ffffff);
    --jt-fg: var(--job-fg, #1b1f24);
    --jt-muted: var(--job-muted, #59636e);
    --jt-border: var(--job-border, #d1d9e0);
    --jt-accent: var(--job-accent, #0969da);
    --jt-accent-fg: var(--job-accent-fg, #ffffff);
    --jt-success: var(--job-success, #1a7f37);
    --jt-danger: var(--job-danger, #cf222e);
    --jt-warning: var(--job-warning, #9a6700);
    --jt-track: var(--job-track, #e6eaef);
    --jt-radius: var(--job-radius, 10px);
    --jt-shadow: var(--job-shadow, 0 8px 24px rgb(0 0 0 / 0.14));
    --jt-gap: var(--job-gap, 0.5rem);
    font-family: var(--jt-font);
    color: var(--jt-fg);
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
    border: 1px solid var(--jt-border);
    border-radius: var(--jt-radius);
    background: var(--jt-bg);
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
    color: var(--jt-muted);
    overflow-wrap: anywhere;
  }
  .error {
    color: var(--jt-danger);
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
    background: var(--jt-track);
    overflow: hidden;
  }
  .fill {
    height: 100%;
    background: var(--jt-accent);
    border-radius: inherit;
    transform-origin: 0;
    transition: transform 0.4s;
  }
  .fill:dir(rtl) {
    transform-origin: 100%;
  }
  .bar.indeterminate .fill {
    position: absolute;
    left: 0;
    width: 35%;
    animation: job-slide 1.4s ease-in-out infinite;
  }
  .bar.indeterminate .fill:dir(rtl) {
    animation-direction: reverse;
  }
  @keyframes job-slide {
    from {
      transform: translateX(-100%);
    }
    to {
      transform: translateX(286%);
    }
  }
  @media (prefers-reduced-motion: reduce) {
    .fill {
      transition: none;
    }
    .bar.indeterminate .fill {
      animation: none;
      width: 100%;
      opacity: 0.45;
    }
  }
  .actions {
    display: flex;
    flex-wrap: wrap;
    gap: var(--jt-gap);
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
    border: 1px solid var(--jt-border);
    background: transparent;
    color: var(--jt-fg);
    cursor: pointer;
    text-decoration: none;
  }
  .link {
    background: var(--jt-accent);
    border-color: var(--jt-accent);
    color: var(--jt-accent-fg);
  }
  button:focus-visible,
  .link:focus-visible {
    outline: 2px solid var(--jt-accent);
    outline-offset: 2px;
  }
  .card.completed {
    border-inline-start: 4px solid var(--jt-success);
  }
  .card.failed {
    border-inline-start: 4px solid var(--jt-danger);
  }
  .card.stalled {
    border-inline-start: 4px solid var(--jt-warning);
  }
  .stall {
    color: var(--jt-warning);
    font-weight: 600;
  }
  .stalled .fill {
    background: var(--jt-warning);
    animation-play-state: paused;
  }
`;
