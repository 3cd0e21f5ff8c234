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
