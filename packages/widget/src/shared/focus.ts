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

/**
 * Reads the focused control's place among the root's job cards (`.card`), or the place of job
 * `jobId`'s card when no card has the focus, before an action may remove that card. The function it
 * returns finds where the focus goes once the card left: the same card if it is still shown, else the
 * next card that was shown after it, else the nearest one before it; there the control of the same
 * part (Cancel for Cancel), or the card's first control.
 */
export function cardSuccessor(root: ShadowRoot, jobId?: string): () => HTMLElement | null {
  const cards = () => [...root.querySelectorAll<HTMLElement>('.card')];
  const control = root.activeElement;
  const part = control?.getAttribute('part');
  const ids = cards().map((card) => card.dataset.jobId);
  const at = ids.indexOf(control?.closest<HTMLElement>('.card')?.dataset.jobId ?? jobId);
  const order = at < 0 ? [] : [...ids.slice(at), ...ids.slice(0, at).reverse()];
  return () => {
    const shown = cards();
    const card = order
      .map((id) => shown.find((element) => element.dataset.jobId === id))
      .find((element) => element);
    return (
      (part && card?.querySelector<HTMLElement>(`[part="${part}"]`)) ||
      (card?.querySelector<HTMLElement>('button, a[href]') ?? null)
    );
  };
}
