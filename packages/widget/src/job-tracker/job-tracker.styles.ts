import { css, unsafeCSS } from 'lit';

/**
 * A phone's screen, upright (480 px wide or less) or on its side (480 px tall or less): the tracker starts
 * collapsed there, and opens as a sheet along an edge.
 */
export const PHONE_SCREEN = '(max-width: 480px), (max-height: 480px)';
const phone = unsafeCSS(PHONE_SCREEN);

export const trackerStyles = css`
  /* Edges keep clear of a phone's notch and home indicator (env() is 0 elsewhere); --_jt-* are internal. */
  :host {
    --_jt-top: calc(1rem + env(safe-area-inset-top));
    --_jt-right: calc(1rem + env(safe-area-inset-right));
    --_jt-bottom: calc(1rem + env(safe-area-inset-bottom));
    --_jt-left: calc(1rem + env(safe-area-inset-left));
    position: fixed;
    z-index: var(--job-z-index, 2147483000);
    --_jt-start: var(--_jt-left);
    --_jt-end: var(--_jt-right);
    inset: auto;
    inset-block-end: var(--_jt-bottom);
    inset-inline-end: var(--_jt-end);
    width: min(22rem, calc(100vw - var(--_jt-left) - var(--_jt-right)));
    display: block;
    pointer-events: none;
  }
  /* Corners are logical: under dir="rtl" "right" is the left side, the panel's end. */
  :host(:dir(rtl)) {
    --_jt-start: var(--_jt-right);
    --_jt-end: var(--_jt-left);
  }
  :host([position$='left']) {
    inset-inline: var(--_jt-start) auto;
  }
  :host([position^='top']) {
    inset-block: var(--_jt-top) auto;
  }
  .stack {
    display: grid;
    gap: 0.6rem;
  }
  .panel,
  .toast,
  .pill {
    pointer-events: auto;
    background: var(--jt-bg);
    border: 1px solid var(--jt-border);
    border-radius: var(--jt-radius);
    box-shadow: var(--jt-shadow);
  }
  .panel {
    display: grid;
    gap: 0.5rem;
    padding: 0.75rem;
  }
  .panel-head {
    display: flex;
    align-items: center;
    justify-content: space-between;
    gap: 0.5rem;
    font-size: 0.9rem;
    font-weight: 600;
  }
  .cards {
    display: grid;
    gap: 0.5rem;
    max-height: min(60vh, 28rem);
    overflow-y: auto;
    margin: 0;
    padding: 0;
    list-style: none;
  }
  .hint,
  .connection {
    margin: 0;
    font-size: 0.8rem;
    color: var(--jt-muted);
  }
  .connection {
    color: var(--jt-danger);
  }
  .toast {
    display: grid;
    gap: 0.35rem;
    padding: 0.75rem 0.9rem;
    border-inline-start: 4px solid var(--jt-success);
    font-size: 0.875rem;
  }
  .toast-title {
    font-weight: 600;
  }
  .toast-body {
    color: var(--jt-muted);
    overflow-wrap: anywhere;
  }
  .pill {
    justify-self: end;
    display: inline-flex;
    align-items: center;
    gap: 0.5rem;
    font: inherit;
    font-size: 0.85rem;
    padding: 0.45rem 0.85rem;
    color: var(--jt-fg);
    cursor: pointer;
  }
  :host([position$='left']) .pill {
    justify-self: start;
  }
  .icon-button {
    border: none;
    padding: 0.2rem 0.45rem;
  }
  .spinner {
    width: 0.8rem;
    height: 0.8rem;
    border-radius: 50%;
    border: 2px solid var(--jt-track);
    border-top-color: var(--jt-accent);
    animation: job-spin 0.9s linear infinite;
  }
  @keyframes job-spin {
    to {
      transform: rotate(360deg);
    }
  }
  @media (prefers-reduced-motion: reduce) {
    .spinner {
      animation: none;
    }
  }
  /* Touch: every control is a target of at least 44×44 px. */
  @media ${phone}, (pointer: coarse) {
    button,
    .link {
      min-width: 44px;
      min-height: 44px;
    }
    .link {
      display: inline-flex;
      align-items: center;
    }
  }
  /* A phone: the host spans its edge and the pill and toasts keep to its safe area, while the open panel
     is a sheet across the bottom (top) edge, short enough to leave the page above (below) it usable. */
  @media ${phone} {
    :host,
    :host([position]) {
      --_jt-near: 0px;
      --_jt-far: var(--_jt-bottom);
      inset: auto 0 0;
      width: auto;
    }
    :host([position^='top']) {
      --_jt-near: var(--_jt-top);
      --_jt-far: 0px;
      inset: 0 0 auto;
    }
    .stack {
      padding: var(--_jt-near) var(--_jt-right) var(--_jt-far) var(--_jt-left);
    }
    .panel {
      margin: calc(-1 * var(--_jt-near)) calc(-1 * var(--_jt-right)) calc(-1 * var(--_jt-far))
        calc(-1 * var(--_jt-left));
      padding: max(0.75rem, var(--_jt-near)) var(--_jt-right) max(0.75rem, var(--_jt-far)) var(--_jt-left);
    }
    .cards {
      max-height: 30vh;
    }
  }
  .hidden-count {
    color: var(--jt-accent);
    text-decoration: underline;
  }
  .visually-hidden {
    position: absolute;
    width: 1px;
    height: 1px;
    margin: -1px;
    padding: 0;
    overflow: hidden;
    clip: rect(0 0 0 0);
    white-space: nowrap;
    border: 0;
  }
  [hidden] {
    display: none !important;
  }
`;
