/** Registers a custom element unless the tag is taken already: loading the elements twice is harmless. */
export function defineElement(tag: string, element: CustomElementConstructor): void {
  if (typeof customElements !== 'undefined' && !customElements.get(tag)) customElements.define(tag, element);
}
