import type { ReactiveController, ReactiveControllerHost } from 'lit';
import { defaultMessages, intlLocale, type JobMessages } from './messages.js';

/**
 * A locale's messages, or a function that loads them when first needed: a dynamic `import()` of a
 * module whose default export they are (as `@jobtracker/widget/locales/*`), or a promise of them.
 */
export type JobLocale = JobMessages | (() => Promise<JobMessages | { default: JobMessages }>);

interface Entry {
  messages?: JobMessages;
  load?: () => Promise<JobMessages | { default: JobMessages }>;
}

// The page's locales, like its custom elements, are one registry per page: `lang` picks from it.
const locales = new Map<string, Entry>([['en', { messages: defaultMessages }]]);
const listeners = new Set<() => void>();
const changed = () => {
  for (const listener of listeners) listener();
};

/**
 * Makes `locale` (a language tag: `de`, `pt-BR`) available to every element under a `lang` that it is the
 * nearest match of; registering a tag again replaces its messages, and the elements show them at once.
 *
 * ```ts
 * import { de } from '@jobtracker/widget/locales/de';
 * registerJobLocale('de', de);
 * registerJobLocale('de', { ...de, cancel: 'Stopp' }); // reworded
 * registerJobLocale('fr', () => import('@jobtracker/widget/locales/fr')); // loaded when a lang needs it
 * ```
 */
export function registerJobLocale(locale: string, messages: JobLocale): void {
  locales.set(locale.toLowerCase(), typeof messages === 'function' ? { load: messages } : { messages });
  changed();
}

const traditionalChinese = (tag: string) => /^zh-(hant|tw|hk|mo)(-|$)/.test(tag);

/**
 * The tag among `available` (lower case) that serves `lang` best: the tag itself, else it with subtags
 * dropped (`de-AT` → `de`), else one of the same language (`pt` → `pt-br`, `zh-Hans` → `zh-cn`; Chinese in
 * traditional script matches only a traditional one); `undefined` when none does.
 */
export function matchLocale(lang: string, available: readonly string[]): string | undefined {
  const wanted = lang.toLowerCase();
  for (let tag = wanted; tag; tag = tag.slice(0, Math.max(0, tag.lastIndexOf('-'))))
    if (available.includes(tag)) return tag;
  const language = wanted.split('-')[0];
  return available.find(
    (tag) =>
      tag.split('-')[0] === language &&
      (language !== 'zh' || traditionalChinese(tag) === traditionalChinese(wanted)),
  );
}

/** The `lang` of `element`'s closest ancestor that has one (across shadow roots), else `en`. */
export function nearestLang(element: Element): string {
  for (let node: Node | null = element; node; ) {
    const lang = node instanceof Element ? node.getAttribute('lang') : null;
    if (lang) return lang;
    node = node instanceof ShadowRoot ? node.host : node.parentNode;
  }
  return 'en';
}

/** The messages and the `Intl` locale an element shows text in. */
export interface Wording {
  messages: JobMessages;
  /** For `Intl`: the `lang` when its messages are there, else English. */
  locale: string;
}

/**
 * What `element` should say: the messages of the registered locale nearest its `lang` (loading them
 * first if need be: English until they arrive), with `overrides` on top.
 */
export function wordingFor(element: Element, overrides?: Partial<JobMessages>): Wording {
  const lang = nearestLang(element);
  const match = matchLocale(lang, [...locales.keys()]);
  const entry = match === undefined ? undefined : locales.get(match);
  if (entry?.load && !entry.messages) {
    const load = entry.load;
    entry.load = undefined;
    load().then(
      (loaded) => {
        entry.messages = 'default' in loaded ? loaded.default : loaded;
        changed();
      },
      () => {
        entry.load = load; // tried again at the next render
      },
    );
  }
  const messages = entry?.messages;
  return {
    messages: overrides ? { ...(messages ?? defaultMessages), ...overrides } : (messages ?? defaultMessages),
    locale: messages || overrides ? intlLocale(lang) : 'en',
  };
}

const watched = new WeakSet<Document>();

/**
 * Renders its host again when a locale is registered or arrives, or a `lang` in its document changes;
 * `wording()` is what the host says.
 */
export class LocaleController implements ReactiveController {
  readonly #host: ReactiveControllerHost & HTMLElement;
  readonly #update = () => this.#host.requestUpdate();

  constructor(host: ReactiveControllerHost & HTMLElement) {
    this.#host = host;
    host.addController(this);
  }

  hostConnected(): void {
    listeners.add(this.#update);
    const document = this.#host.ownerDocument;
    if (watched.has(document)) return;
    watched.add(document);
    new MutationObserver(changed).observe(document.documentElement, {
      attributes: true,
      attributeFilter: ['lang'],
      subtree: true,
    });
  }

  hostDisconnected(): void {
    listeners.delete(this.#update);
  }

  wording(overrides?: Partial<JobMessages>): Wording {
    return wordingFor(this.#host, overrides);
  }
}
