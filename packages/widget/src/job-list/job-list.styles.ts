import { css } from 'lit';

export const listStyles = css`
  :host {
    display: block;
  }
  :host([hidden]) {
    display: none;
  }
  .list {
    display: grid;
    gap: var(--job-list-gap, 0.6rem);
    margin: 0;
    padding: 0;
    list-style: none;
  }
  .list:focus,
  .empty:focus {
    outline: none;
  }
  .empty {
    color: var(--jt-muted);
    font-size: 0.875rem;
  }
  .earlier {
    margin: 0.3rem 0.75rem 0;
    color: var(--jt-muted);
    font-size: 0.8125rem;
  }
  .more {
    margin-block-start: 0.6rem;
    min-block-size: 2.75rem;
    padding: 0.4rem 1rem;
    border: 1px solid var(--jt-border);
    border-radius: var(--jt-radius);
    color: var(--jt-fg);
    background: var(--jt-bg);
    font: inherit;
    font-size: 0.875rem;
    cursor: pointer;
  }
  .more[aria-disabled='true'] {
    cursor: progress;
    opacity: 0.7;
  }
  .more:focus-visible {
    outline: 2px solid var(--jt-accent);
    outline-offset: 2px;
  }
  .visually-hidden {
    position: absolute;
    inline-size: 1px;
    block-size: 1px;
    margin: -1px;
    padding: 0;
    overflow: hidden;
    clip-path: inset(50%);
    white-space: nowrap;
    border: 0;
  }
  .action-error {
    margin: 0 0 0.6rem;
    padding: 0.5rem 0.75rem;
    border: 1px solid var(--jt-danger);
    border-radius: var(--jt-radius);
    color: var(--jt-danger);
    background: var(--jt-bg);
    font-size: 0.875rem;
  }
`;
