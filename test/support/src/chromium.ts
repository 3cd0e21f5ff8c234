/** The Chromium of the browser suites and benchmarks: `CHROME_PATH`, else Debian's (downloads do not work here). */
export const CHROME_PATH = process.env.CHROME_PATH || '/usr/bin/chromium';

/** Headless Chromium as root in a container: no sandbox or GPU, small /dev/shm, no background traffic. */
export const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-dev-shm-usage',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
];
