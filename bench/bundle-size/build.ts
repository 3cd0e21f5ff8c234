/** Bundle-size benchmark: the build set-up shared by our files and the peers (rollup.config.js's plugins and terser options). */
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import commonjsModule from '@rollup/plugin-commonjs';
import nodeResolveModule from '@rollup/plugin-node-resolve';
import replaceModule from '@rollup/plugin-replace';
import terserModule, { type Options as TerserOptions } from '@rollup/plugin-terser';
import {
  type OutputChunk,
  type OutputOptions,
  type Plugin,
  type RollupOptions,
  type RollupOutput,
  rollup,
} from 'rollup';
import { sizes, sumSizes } from '../lib/bundle-measure.js';
import { grouped } from '../lib/format.js';

// The plugins' .d.ts files are CommonJS to TypeScript (NodeNext: the default import is the module object), while
// Node loads their ESM build, whose default export is the plugin function itself.
export const commonjs = commonjsModule as unknown as typeof commonjsModule.default;
export const nodeResolve = nodeResolveModule as unknown as typeof nodeResolveModule.default;
export const replace = replaceModule as unknown as typeof replaceModule.default;
export const terser = terserModule as unknown as typeof terserModule.default;

export const ROOT = fileURLToPath(new URL('../..', import.meta.url));
export const PEERS = join(ROOT, 'bench/peers');
export const PEERS_MODULES = join(PEERS, 'node_modules');

/** The terser options of rollup.config.js, for the peers; checked below: rebuilding ours with them gives dist. */
export const TERSER: TerserOptions = {
  ecma: 2022,
  module: true,
  compress: { passes: 2 },
  format: { comments: false },
};
export const DROP_IN_GZIP_TARGET = 12_000; // "12 KB" read as 12,000 B (12 KiB would be 12,288 B)
export const SDK_GZIP_TARGET = 4_000; // "4 KB" read as 4,000 B

export const DROP_IN = 'packages/widget/dist/jobtracker.min.js';
export const SDK = 'packages/sdk/dist/jobtracker-sdk.min.js';

// rollup.config.js names its inputs and its tsconfig relative to the repository root.
process.chdir(ROOT);
const configModule = (await import(pathToFileURL(join(ROOT, 'rollup.config.js')).href)) as {
  default: RollupOptions[];
};

/** The file an output of rollup.config.js names: `file`, or `dir` + a fixed `entryFileNames`. */
const outputFile = (output: OutputOptions) =>
  output.file ??
  (output.dir && typeof output.entryFileNames === 'string'
    ? `${output.dir}/${output.entryFileNames}`
    : undefined);

/** What rebuilding one of rollup.config.js's outputs in-process takes: its input options and file names. */
export interface BuildConfig {
  input: RollupOptions['input'];
  /** The build plugins, all but terser. */
  plugins: Plugin[];
  preserveEntrySignatures: RollupOptions['preserveEntrySignatures'];
  /** How the output names its entry and chunks (an entry's import() names its chunk). */
  output: Pick<OutputOptions, 'entryFileNames' | 'chunkFileNames'>;
}

/** The input, the build plugins (all but terser) and the file names rollup.config.js uses for one output file. */
export function configFor(file: string): BuildConfig {
  const config = configModule.default.find(
    (c) => !Array.isArray(c.output) && c.output && outputFile(c.output) === file,
  );
  if (!config || !Array.isArray(config.plugins)) throw new Error(`rollup.config.js builds no ${file}`);
  const plugins = config.plugins.filter(
    (p): p is Plugin => typeof p === 'object' && p !== null && 'name' in p,
  );
  const terserCount = plugins.filter((p) => p.name === 'terser').length;
  if (terserCount !== 1)
    throw new Error(`rollup.config.js has ${terserCount} terser plugins for ${file}, not 1`);
  const output = config.output as OutputOptions;
  return {
    input: config.input,
    plugins: plugins.filter((p) => p.name !== 'terser'),
    preserveEntrySignatures: config.preserveEntrySignatures,
    output: { entryFileNames: output.entryFileNames, chunkFileNames: output.chunkFileNames },
  };
}

export const signed = (bytes: number) =>
  bytes > 0 ? `+${grouped(bytes)}` : bytes === 0 ? '±0' : `−${grouped(-bytes)}`;

/** The code without rollup's trailing `//# sourceMappingURL=` line (dist has it, an in-memory build has not). */
export const stripMapComment = (code: string) => code.replace(/\/\/# sourceMappingURL=\S+\s*$/, '').trimEnd();

export const chunksOf = (output: RollupOutput['output']) =>
  output.filter((item): item is OutputChunk => item.type === 'chunk');

/** The files a page fetches on first load (the entry and its static imports, each compressed on its own). */
export function firstLoad(output: RollupOutput['output'], entryName: string) {
  const chunks = chunksOf(output);
  const byFile = new Map(chunks.map((chunk) => [chunk.fileName, chunk]));
  const entry = chunks.find((chunk) => chunk.isEntry && chunk.name === entryName);
  if (!entry) throw new Error(`no entry chunk "${entryName}"`);
  const seen = new Set<string>();
  const visit = (chunk: OutputChunk) => {
    if (seen.has(chunk.fileName)) return;
    seen.add(chunk.fileName);
    for (const imported of chunk.imports) {
      const next = byFile.get(imported);
      if (next) visit(next); // else an external (react)
    }
  };
  visit(entry);
  const eager = chunks.filter((chunk) => seen.has(chunk.fileName));
  const lazy = chunks.filter((chunk) => !seen.has(chunk.fileName));
  return {
    eager: sumSizes(eager.map((chunk) => sizes(chunk.code))),
    files: eager.length,
    lazy: sumSizes(lazy.map((chunk) => sizes(chunk.code))),
    lazyFiles: lazy.length,
    modules: chunks.flatMap((chunk) => Object.keys(chunk.modules)),
    eagerChunks: eager,
  };
}

/** The packages that make up most of some chunks, by their share of rollup's rendered (pre-terser) length. */
export function topPackages(chunks: OutputChunk[], count: number): string {
  const byPackage = new Map<string, number>();
  let total = 0;
  for (const chunk of chunks) {
    for (const [id, module] of Object.entries(chunk.modules)) {
      const path = id.split('node_modules/').at(-1) ?? id;
      const parts = path.split('/');
      const name = id.includes('node_modules/')
        ? parts.slice(0, path.startsWith('@') ? 2 : 1).join('/')
        : '(entry)';
      byPackage.set(name, (byPackage.get(name) ?? 0) + module.renderedLength);
      total += module.renderedLength;
    }
  }
  return [...byPackage]
    .sort((a, b) => b[1] - a[1])
    .slice(0, count)
    .map(([name, length]) => `${name} ${Math.round((100 * length) / total)}%`)
    .join(', ');
}

/** Builds `input` with our build plugins (rollup.config.js's) and terser(options). */
export async function buildOurs(input: Record<string, string>, options: TerserOptions = TERSER) {
  const bundle = await rollup({ input, plugins: configFor(DROP_IN).plugins, logLevel: 'silent' });
  try {
    return (await bundle.generate({ format: 'es', plugins: [terser(options)] })).output;
  } finally {
    await bundle.close();
  }
}
