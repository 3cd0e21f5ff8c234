import { css } from 'lit';

export const badgeStyles = css`
  :host {
    display: inline-flex;
    vertical-align: middle;
  }
  /* At zero (and before the first count) the host generates no box: nothing shows, nothing takes
     space, yet the status region inside stays in the accessibility tree, so 0 → 1 is announced. */
  :host(:not([count])),
  :host([count='0']) {
    display: contents;
  }
  :host(:not([count])) .badge,
  :host([count='0']) .badge {
    display: none;
  }
  .badge {
    display: inline-flex;
    align-items: center;
    justify-content: center;
    box-sizing: border-box;
    min-width: 1.5em;
    height: 1.5em;
    padding: 0 0.45em;
    border-radius: 999px;
    background: var(--job-badge-bg, var(--jt-accent));
    color: var(--job-badge-fg, var(--jt-accent-fg));
    font-size: 0.75em;
    font-weight: 600;
    line-height: 1;
    font-variant-numeric: tabular-nums;
    white-space: nowrap;
  }
  .visually-hidden {
    position: absolute;
    width: 1px;
    height: 1px;
    padding: 0;
    margin: -1px;
    overflow: hidden;
    clip: rect(0 0 0 0);
    white-space: nowrap;
    border: 0;
  }
`;
