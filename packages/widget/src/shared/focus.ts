/**
 * After the focused control left with its card or toast, puts the focus on `target()` instead of
 * leaving it on the page's body. Focus anywhere else (inside the element, or on the page) stays.
 */
export function keepFocusInside(
  host: HTMLElement,
  target: (root: ShadowRoot) => HTMLElement | null | undefined,
) {
  const root = host.shadowRoot;
  const focus = document.activeElement;
  if (!root || root.activeElement || (focus && focus !== document.body && focus !== host)) return;
  target(root)?.focus();
}
