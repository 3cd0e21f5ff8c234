// Modules of the SDK that the repository's own tests reach into. Exported as `@jobtracker/sdk/internal`
// under the `jobtracker-source` condition only (plus its types), so a published install cannot load it;
// tests import it through `@jobtracker/test-support/sdk-internals`.

export { SEEN_MS as ANNOUNCEMENT_SEEN_MS } from './client/announcer.js';
export { createSseParser } from './sse/parse.js';
