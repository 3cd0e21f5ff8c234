import { css } from 'lit';

export const buttonStyles = css`
  :host {
    display: inline-flex;
    flex-wrap: wrap;
    align-items: center;
    /* The slotted button keeps the page's own look: inherit instead of the panel's font. */
    font-family: inherit;
    color: inherit;
  }
  :host([hidden]) {
    display: none;
  }
  /* A held button looks unavailable as a disabled one would; the page's own rules win over this. */
  ::slotted([aria-disabled='true']) {
    opacity: 0.6;
    cursor: progress;
  }
  /* Both live regions stay in the page while empty, so that screen readers announce what appears. */
  .status,
  .error {
    font-size: 0.875em;
  }
  .status {
    color: var(--jt-muted);
    font-variant-numeric: tabular-nums;
  }
  .error {
    color: var(--jt-danger);
    overflow-wrap: anywhere;
  }
  .status:not(:empty),
  .error:not(:empty) {
    margin-inline-start: var(--jt-gap);
  }
`;
