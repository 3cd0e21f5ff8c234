import { css } from 'lit';

export const trackerStyles = css`
  :host {
    position: fixed;
    z-index: var(--job-z-index, 2147483000);
    inset: auto;
    inset-block-end: 1rem;
    inset-inline-end: 1rem;
    width: min(22rem, calc(100vw - 2rem));
    display: block;
    pointer-events: none;
  }
  /* Corners are logical: under dir="rtl" "right" is the left side, the panel's end. */
  :host([position$='left']) {
    inset-inline: 1rem auto;
  }
  :host([position^='top']) {
    inset-block: 1rem auto;
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
