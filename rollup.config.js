// Browser bundles, built from each package's TypeScript sources (tsc -b builds the per-module
// output and the .d.ts files; rollup makes the files a page can load).
import { existsSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import commonjs from '@rollup/plugin-commonjs';
import nodeResolve from '@rollup/plugin-node-resolve';
import replace from '@rollup/plugin-replace';
import terser from '@rollup/plugin-terser';
import esbuild from 'rollup-plugin-esbuild';

/** Collapses the whitespace of lit `css` templates, which terser leaves alone (strings are opaque to it). */
const minifyCss = () => ({
  name: 'minify-lit-css',
  transform(code, id) {
    if (!id.endsWith('.styles.ts') && !id.endsWith('/shared/styles.ts')) return null;
    return {
      code: code.replace(
        /css`([^`]*)`/g,
        (_, body) =>
          `css\`${body
            .replace(/\/\*[\s\S]*?\*\//g, '')
            .replace(/\s+/g, ' ')
            .replace(/\s*([{};:,>])\s*/g, '$1')
            .replace(/;}/g, '}')
            .replace(/([\s:,(])0\.(\d)/g, '$1.$2')
            .trim()}\``,
      ),
      map: null,
    };
  },
});

/** After a write, removes the files of `folder` (under the output dir) that this build did not write: old chunks. */
const removeStaleFiles = (folder) => ({
  name: 'remove-stale-files',
  writeBundle(options, bundle) {
    const dir = join(options.dir, folder);
    if (!existsSync(dir)) return;
    for (const name of readdirSync(dir)) {
      if (!(`${folder}/${name}` in bundle)) rmSync(join(dir, name));
    }
  },
});

const plugins = () => [
  minifyCss(),
  // nanostores and lit read process.env.NODE_ENV; browsers have no `process`.
  replace({ preventAssignment: true, values: { 'process.env.NODE_ENV': JSON.stringify('production') } }),
  nodeResolve({ exportConditions: ['jobtracker-source', 'browser', 'default'], extensions: ['.ts', '.js'] }),
  esbuild({ target: 'es2022', tsconfig: 'tsconfig.base.json' }),
  terser({ ecma: 2022, module: true, compress: { passes: 2 }, format: { comments: false } }),
];

export default [
  {
    // The SDK for a page, in one file.
    input: 'packages/sdk/src/index.ts',
    output: { file: 'packages/sdk/dist/jobtracker-sdk.min.js', format: 'es', sourcemap: true },
    plugins: plugins(),
  },
  {
    // The drop-in for a plain <script type="module"> tag: jobtracker.min.js holds <job-tracker>, <job-badge>,
    // the SDK, lit and nanostores; <job-list>, <job-button> and <job-provider> are chunks it imports (relative
    // to its own URL) when a page uses them. The chunks import what they share from jobtracker.min.js itself
    // ('allow-extension'), so a page with tracker and badge fetches one file.
    input: 'packages/widget/src/standalone.ts',
    preserveEntrySignatures: 'allow-extension',
    output: {
      dir: 'packages/widget/dist',
      entryFileNames: 'jobtracker.min.js',
      chunkFileNames: 'chunks/[name]-[hash].js',
      format: 'es',
      sourcemap: true,
      plugins: [removeStaleFiles('chunks')],
    },
    plugins: plugins(),
  },
  {
    // The React example (served by npm start at /react/): React is CommonJS, hence the commonjs plugin.
    input: 'examples/react/src/main.tsx',
    output: { file: 'examples/react/dist/app.js', format: 'es', sourcemap: true, inlineDynamicImports: true },
    plugins: [
      replace({ preventAssignment: true, values: { 'process.env.NODE_ENV': JSON.stringify('production') } }),
      nodeResolve({
        exportConditions: ['jobtracker-source', 'browser', 'default'],
        extensions: ['.ts', '.tsx', '.js'],
      }),
      commonjs(),
      esbuild({ target: 'es2022', jsx: 'automatic', tsconfig: 'tsconfig.base.json' }),
      terser({ ecma: 2022, module: true, format: { comments: false } }),
    ],
  },
];
