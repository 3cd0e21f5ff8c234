// `cem analyze` reads the elements' class JSDoc (the public manual) into custom-elements.json.
export default {
  globs: ['src/**/*.ts'],
  exclude: ['src/**/*.test.ts', 'src/testing/**', 'src/standalone.ts'],
  outdir: '.',
  litelement: true,
};
