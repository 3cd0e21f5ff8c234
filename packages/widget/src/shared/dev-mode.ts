// Bundlers replace `process.env.NODE_ENV`, as Lit's and nanostores' builds expect: rollup.config.js sets
// "production", so the drop-in file carries no warning text; web-test-runner.config.mjs "development".
declare const process: { env: { NODE_ENV?: string } };

/** Warnings for the page's developer, left out of production builds. */
export const DEV_MODE = process.env.NODE_ENV !== 'production';
