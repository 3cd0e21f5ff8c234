import { defineElement } from '../shared/define.js';

/** Loads the class of a lazily defined element (a dynamic `import()` of its module). */
export type ElementLoader = () => Promise<CustomElementConstructor>;

/**
 * Defines each tag of `loaders` once an element with that tag is in `root`, now or later: it loads the
 * tag's class, then defines the tag, which upgrades the elements already there with the attributes and
 * properties they were given meanwhile. Tags defined already are left alone; once every tag is
 * loading, `root` is no longer observed. Elements inside shadow roots under `root` are not seen: pass
 * such a shadow root as a `root` of its own.
 */
export function defineOnUse(loaders: Record<string, ElementLoader>, root: Document | ShadowRoot): void {
  const waiting = new Map(Object.entries(loaders).filter(([tag]) => !customElements.get(tag)));
  const selector = [...waiting.keys()].join();
  const observer = new MutationObserver((records) => {
    for (const record of records)
      for (const node of record.addedNodes) if (node instanceof Element) look(node);
  });
  const look = (node: Element | Document | ShadowRoot) => {
    const found = [...node.querySelectorAll(selector)];
    if (node instanceof Element && node.matches(selector)) found.push(node);
    for (const element of found) {
      const tag = element.localName;
      const load = waiting.get(tag);
      if (!load) continue;
      waiting.delete(tag);
      void load().then((element) => defineElement(tag, element));
    }
    if (waiting.size === 0) observer.disconnect();
  };
  if (waiting.size === 0) return;
  observer.observe(root, { childList: true, subtree: true });
  look(root);
}
