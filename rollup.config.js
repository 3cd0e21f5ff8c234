// Browser bundles, built from each package's TypeScript sources (tsc -b builds the per-module
// output and the .d.ts files; rollup makes the single files a page can load).
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
    // The SDK for a page; its polling transport is a chunk beside it, loaded when a connection first polls.
    input: 'packages/sdk/src/index.ts',
    // The chunk imports a few of the entry's own bindings: they are exported from it, not split off.
    preserveEntrySignatures: 'allow-extension',
    output: {
      dir: 'packages/sdk/dist',
      entryFileNames: 'jobtracker-sdk.min.js',
      chunkFileNames: 'jobtracker-sdk-[name].min.js',
      format: 'es',
      sourcemap: true,
    },
    plugins: plugins(),
  },
  {
    // Every element + the SDK + lit + nanostores in one file for a plain <script type="module"> tag.
    input: 'packages/widget/src/standalone.ts',
    output: {
      file: 'packages/widget/dist/jobtracker.min.js',
      format: 'es',
      sourcemap: true,
      inlineDynamicImports: true,
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
