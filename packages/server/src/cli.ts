#!/usr/bin/env node
import { startServer } from './app/server.js';
import { redactDbUrl } from './app/tracker.js';
import { readConfig, USAGE } from './config/config.js';
import { LANDING_HTML } from './demo/landing.js';

let config: ReturnType<typeof readConfig>;
try {
  config = readConfig(process.argv.slice(2), process.env);
} catch (error) {
  console.error(`jobtracker-server: ${(error as Error).message}\n\n${USAGE}`);
  process.exit(2);
}
if (config.help) {
  console.log(USAGE);
  process.exit(0);
}

const server = await startServer({
  ...config,
  extend: config.demo ? (app) => app.get('/', (c) => c.html(LANDING_HTML)) : undefined,
}).catch((error: unknown) => {
  console.error(`jobtracker-server: could not start: ${(error as Error).message}`);
  process.exit(1);
});

console.log(`jobtracker server listening on ${server.url}  (database ${redactDbUrl(config.db ?? '')})`);
if (config.demo) console.log(`Demo page: ${server.url}/   API: ${server.url}/api/health`);

let closing = false;
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    if (closing) process.exit(1);
    closing = true;
    console.log(`\n${signal}: closing…`);
    server.close().then(
      () => process.exit(0),
      (error: unknown) => {
        console.error(error);
        process.exit(1);
      },
    );
  });
}
