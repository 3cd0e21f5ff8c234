// What a screen reader would say on a page: the texts that appear in its live regions, over time.

const REGION = '[aria-live], [role="status"], [role="alert"]';

const spoken = (node: Node | null | undefined) => node?.textContent?.replace(/[ \t\n\r]+/g, ' ').trim() ?? '';

/** The live region that `node` is in, unless that region is silenced (`aria-live="off"`). */
function liveRegionOf(node: Node): Element | null {
  const element = node instanceof Element ? node : node.parentElement;
  const region = element?.closest(REGION);
  return region && region.getAttribute('aria-live') !== 'off' ? region : null;
}

/** `role="status"` and `role="alert"` are atomic unless they say otherwise. */
const isAtomic = (region: Element) =>
  region.hasAttribute('aria-atomic')
    ? region.getAttribute('aria-atomic') === 'true'
    : ['status', 'alert'].includes(region.getAttribute('role') ?? '');

/**
 * Records every announcement made in the live regions under `roots` (shadow roots too), in order, as
 * `polite: …` or `assertive: …`. An atomic region is read whole each time it changes; another reads
 * only what was added to it (each added node, or a changed text).
 */
export function recordAnnouncements(...roots: Node[]): string[] {
  return record(roots, (politeness, text) => `${politeness}: ${text}`);
}

/** Every text said in one live region, in order, without its politeness. */
export const recordRegion = (region: Element): string[] => record([region], (_politeness, text) => text);

function record(roots: Node[], line: (politeness: 'polite' | 'assertive', text: string) => string): string[] {
  const said: string[] = [];
  const observer = new MutationObserver((records) => {
    const atomicChanged = new Set<Element>();
    for (const change of records) {
      const region = liveRegionOf(change.target);
      if (!region) continue;
      if (isAtomic(region)) {
        atomicChanged.add(region);
        continue;
      }
      const added = change.type === 'characterData' ? [change.target] : [...change.addedNodes];
      for (const node of added) say(region, spoken(node));
    }
    for (const region of atomicChanged) say(region, spoken(region));
  });
  function say(region: Element, text: string) {
    if (!text) return;
    const assertive =
      region.getAttribute('aria-live') === 'assertive' ||
      (!region.hasAttribute('aria-live') && region.getAttribute('role') === 'alert');
    said.push(line(assertive ? 'assertive' : 'polite', text));
  }
  for (const root of roots) observer.observe(root, { childList: true, characterData: true, subtree: true });
  return said;
}
