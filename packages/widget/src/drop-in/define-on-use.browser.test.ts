/// <reference types="@jobtracker/test-support/mocha" />
import { assert, assertEqual, delay, eventually } from '../testing/widget-env.js';
import { defineOnUse } from './define-on-use.js';

const added: Element[] = [];
afterEach(() => {
  for (const element of added.splice(0)) element.remove();
});

let unique = 0;
/** A fresh tag name and a loader of a class for it that counts its loads and keeps what it was given. */
function lazyTag() {
  const tag = `lazy-test-${++unique}-${Date.now()}`;
  const loads: string[] = [];
  class Element extends HTMLElement {
    declare value: unknown;
    upgradedWith: unknown;
    connectedCallback() {
      this.upgradedWith = this.value;
    }
  }
  const load = async () => {
    loads.push(tag);
    await delay(20);
    return Element;
  };
  return { tag, loads, load };
}

const put = (html: string, parent: ParentNode = document.body) => {
  const holder = document.createElement('div');
  holder.innerHTML = html;
  added.push(holder);
  parent.append(holder);
  return holder;
};

describe('defineOnUse', () => {
  it('defines a tag already in the document once, keeping a property set before, and leaves unused tags', async () => {
    const used = lazyTag();
    const unused = lazyTag();
    const holder = put(`<${used.tag}></${used.tag}><${used.tag}></${used.tag}>`);
    const [first] = [...holder.children] as (HTMLElement & { value?: unknown; upgradedWith?: unknown })[];
    assert(first, 'an element');
    first.value = 'set before';
    defineOnUse({ [used.tag]: used.load, [unused.tag]: unused.load }, document);
    await eventually(() => customElements.get(used.tag), 2000, 'the used tag defined');
    assertEqual(first.upgradedWith, 'set before', 'the property, seen on upgrade');
    await delay(50);
    assertEqual(used.loads.length, 1, 'loads of the used tag');
    assertEqual(unused.loads.length, 0, 'loads of the unused tag');
    assert(!customElements.get(unused.tag), 'the unused tag stays undefined');
  });

  it('defines a tag that arrives later, nested in an added subtree', async () => {
    const later = lazyTag();
    defineOnUse({ [later.tag]: later.load }, document);
    await delay(30);
    assertEqual(later.loads.length, 0, 'nothing loaded before the tag is used');
    const holder = put(`<section><p><${later.tag}></${later.tag}></p></section>`);
    await eventually(() => customElements.get(later.tag), 2000, 'the tag defined');
    assert(holder.querySelector(later.tag)?.matches(':defined'), 'the element upgraded');
    put(`<${later.tag}></${later.tag}>`);
    await delay(50);
    assertEqual(later.loads.length, 1, 'loads: one, however many elements come');
  });

  it('sees a shadow root only when given it as a root of its own', async () => {
    const inShadow = lazyTag();
    const host = put('');
    const shadow = host.attachShadow({ mode: 'open' });
    defineOnUse({ [inShadow.tag]: inShadow.load }, document);
    shadow.innerHTML = `<${inShadow.tag}></${inShadow.tag}>`;
    await delay(50);
    assertEqual(inShadow.loads.length, 0, 'loads from the document alone');
    defineOnUse({ [inShadow.tag]: inShadow.load }, shadow);
    await eventually(() => customElements.get(inShadow.tag), 2000, 'the tag defined');
  });
});
