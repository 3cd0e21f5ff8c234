/** Bundle-size benchmark: ours rebuilt in-process with other options, one file per element, and lit's own floor. */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Options as TerserOptions } from '@rollup/plugin-terser';
import { type Plugin, rollup } from 'rollup';
import { collapseHtmlWhitespacePlugin } from '../lib/bundle-html-whitespace.js';
import { type Sizes, sizes, sumSizes } from '../lib/bundle-measure.js';
import { grouped } from '../lib/format.js';
import {
  buildOurs,
  chunksOf,
  configFor,
  firstLoad,
  ROOT,
  signed,
  stripMapComment,
  TERSER,
  terser,
} from './build.js';

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
  const { preserveEntrySignatures } = config;
  const plain = await rollup({
    input: config.input,
    plugins: config.plugins,
    preserveEntrySignatures,
    logLevel: 'silent',
  });
  const results: TrialResult[] = [];
  try {
    for (const trial of trials) {
      const bundle = trial.transform
        ? await rollup({
            input: config.input,
            plugins: [trial.transform(), ...config.plugins],
            preserveEntrySignatures,
            logLevel: 'silent',
          })
        : plain;
      try {
        const [chunk] = (
          await bundle.generate({ format: 'es', ...config.output, plugins: [terser(trial.terser)] })
        ).output;
        results.push({ name: trial.name, sizes: sizes(chunk.code) });
        if (trial === ASIS && stripMapComment(chunk.code) !== stripMapComment(readFileSync(file, 'utf8'))) {
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

// --------------------------------------------------- what-ifs: one file per element, and lit's own floor

const ELEMENTS = [
  ['job-tracker', 'JobTracker'],
  ['job-badge', 'JobBadge'],
  ['job-list', 'JobList'],
  ['job-button', 'JobButton'],
  ['job-provider', 'JobProvider'],
] as const;

/** The five elements built as one file each over shared chunks: what a page with one of them would load. */
export async function splitBuild(ourTmp: string) {
  const src = join(ROOT, 'packages/widget/src');
  const input: Record<string, string> = {};
  for (const [tag, name] of ELEMENTS) {
    input[tag] = join(ourTmp, `${tag}.js`);
    writeFileSync(
      input[tag],
      `import { ${name} } from ${JSON.stringify(join(src, tag, `${tag}.ts`))};\n` +
        `import { defineElement } from ${JSON.stringify(join(src, 'shared/define.ts'))};\n` +
        `defineElement('${tag}', ${name});\n`,
    );
  }
  const output = await buildOurs(input);
  const shared = chunksOf(output).filter((chunk) => !chunk.isEntry);
  return {
    shared: sumSizes(shared.map((chunk) => sizes(chunk.code))),
    sharedFiles: shared.length,
    pages: ELEMENTS.map(([tag]) => ({ tag, ...firstLoad(output, tag) })),
  };
}

/** The least any lit element costs: one LitElement with a property, a css`` style and an html`` template. */
export const LIT_FLOOR = `import { LitElement, css, html } from 'lit';
class Floor extends LitElement {
  static styles = css\`:host{display:block}\`;
  static properties = { value: {} };
  render() { return html\`<p>\${this.value}</p>\`; }
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
