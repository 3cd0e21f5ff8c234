/** Bundle-size benchmark: ours rebuilt in-process with other options, and lit's own floor. */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Options as TerserOptions } from '@rollup/plugin-terser';
import { type Plugin, rollup } from 'rollup';
import { collapseHtmlWhitespacePlugin } from '../lib/bundle-html-whitespace.js';
import { type Sizes, sizes } from '../lib/bundle-measure.js';
import { grouped } from '../lib/format.js';
import { buildOurs, configFor, firstLoad, signed, stripMapComment, TERSER, terser } from './build.js';

export interface Trial {
  name: string;
  terser: TerserOptions;
  /** An input plugin put first (a source transform). */
  transform?: () => Plugin;
}
export interface TrialResult {
  name: string;
  sizes?: Sizes;
  error?: string;
}

const ASIS: Trial = { name: 'rollup.config.js as is', terser: TERSER };
const PASSES_3: Trial = { name: 'compress.passes: 3', terser: { ...TERSER, compress: { passes: 3 } } };
const UNSAFE: Trial = {
  name: 'compress { unsafe, unsafe_arrows, unsafe_methods, pure_getters } (riskier)',
  terser: {
    ...TERSER,
    compress: { passes: 2, unsafe: true, unsafe_arrows: true, unsafe_methods: true, pure_getters: true },
  },
};
export const DROP_IN_TRIALS: Trial[] = [
  ASIS,
  PASSES_3,
  { name: 'toplevel: true', terser: { ...TERSER, toplevel: true } },
  {
    name: "mangle.properties { regex: /^_(?!\\$)/ } (our '_' names; #private ones are mangled already)",
    terser: { ...TERSER, mangle: { properties: { regex: /^_(?!\$)/ } } },
  },
  {
    name: "mangle.properties { regex: /^_/ } (also lit's _$ names: UNSAFE, lit's cross-version protocol)",
    terser: { ...TERSER, mangle: { properties: { regex: /^_/ } } },
  },
  UNSAFE,
  {
    name: 'line breaks + indentation in html`` templates collapsed to one space',
    terser: TERSER,
    transform: collapseHtmlWhitespacePlugin,
  },
];
export const SDK_TRIALS: Trial[] = [ASIS, PASSES_3, UNSAFE];

export async function runTrials(
  file: string,
  trials: Trial[],
  mirrorNotes: string[],
): Promise<TrialResult[]> {
  const config = configFor(file);
  const options = {
    input: config.input,
    preserveEntrySignatures: config.preserveEntrySignatures,
    logLevel: 'silent' as const,
  };
  const plain = await rollup({ ...options, plugins: config.plugins });
  const results: TrialResult[] = [];
  try {
    for (const trial of trials) {
      const bundle = trial.transform
        ? await rollup({ ...options, plugins: [trial.transform(), ...config.plugins] })
        : plain;
      try {
        const { output } = await bundle.generate({
          format: 'es',
          ...config.output,
          plugins: [terser(trial.terser)],
        });
        // What a page fetches first: the entry and its static imports (its lazy chunks are left out).
        const { entryChunk, eager } = firstLoad(output);
        results.push({ name: trial.name, sizes: eager });
        if (
          trial === ASIS &&
          stripMapComment(entryChunk.code) !== stripMapComment(readFileSync(file, 'utf8'))
        ) {
          mirrorNotes.push(
            `Rebuilding ${file} in-process with terser ${JSON.stringify(TERSER)} does not give the dist bytes: ` +
              'rollup.config.js changed (update TERSER in bench/bundle-size.ts) or dist is stale (npx rollup -c).',
          );
        }
      } catch (error) {
        results.push({ name: trial.name, error: String(error) });
      } finally {
        if (bundle !== plain) await bundle.close();
      }
    }
  } finally {
    await plain.close();
  }
  return results;
}

export const gzipDelta = (trials: TrialResult[], trial: TrialResult) =>
  trial.sizes && trials[0]?.sizes ? trial.sizes.gzip - trials[0].sizes.gzip : Number.NaN;

export function trialsTable(title: string, trials: TrialResult[]): string {
  const base = trials[0]?.sizes;
  return [
    `${title} (temporary builds, measured without the dist file's sourceMappingURL line)`,
    '| option | min B | gzip B | Δ gzip | brotli B | Δ brotli |',
    '| --- | --- | --- | --- | --- | --- |',
    ...trials.map((t) =>
      t.sizes && base
        ? `| ${t.name} | ${grouped(t.sizes.min)} | ${grouped(t.sizes.gzip)} | ${signed(t.sizes.gzip - base.gzip)} | ` +
          `${grouped(t.sizes.brotli)} | ${signed(t.sizes.brotli - base.brotli)} |`
        : `| ${t.name} | failed: ${t.error ?? '?'} | | | | |`,
    ),
  ].join('\n');
}

// ------------------------------------------------------------------------------------------ lit's own floor

/** The least any lit element costs: one LitElement with a property, a css`` style and an html`` template. */
export const LIT_FLOOR = `import { LitElement, css, html } from 'lit';
class Floor extends LitElement {
  static styles = css\`:host{display:block}\`;
  static properties = { value: {} };
  render() { return html\`<p>\${this.value}</p>\`; }
}
customElements.define('lit-floor', Floor);
`;
/** The lit floor with a context consumer, as the elements ask `<job-provider>` for its client. */
export const LIT_CONTEXT_FLOOR = `import { LitElement, css, html } from 'lit';
import { ContextConsumer, createContext } from '@lit/context';
const context = createContext(Symbol.for('floor'));
class Floor extends LitElement {
  static styles = css\`:host{display:block}\`;
  static properties = { value: {} };
  consumer = new ContextConsumer(this, { context, subscribe: true });
  render() { return html\`<p>\${this.value}\${this.consumer.value}</p>\`; }
}
customElements.define('lit-floor', Floor);
`;
/** lit-html alone (no reactive element): render(html``) into a node. */
export const LIT_HTML_FLOOR = `import { html, render } from 'lit-html';
export const show = (node, value) => render(html\`<p>\${value}</p>\`, node);
`;

export async function floor(ourTmp: string, name: string, code: string): Promise<Sizes> {
  const entry = join(ourTmp, `${name}.js`);
  writeFileSync(entry, code);
  const [chunk] = await buildOurs({ [name]: entry });
  return sizes(chunk.code);
}
