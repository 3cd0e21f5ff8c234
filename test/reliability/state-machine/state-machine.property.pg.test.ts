import { postgresBackend } from './backends.js';
import { describeStateMachine } from './property.js';

// The engine in shared mode, each sequence on a fresh schema of the test PostgreSQL database: about a
// second a sequence (a schema, its migration and the round trips), so 20 by default (about 25 s) to
// keep CI short; with `JOBTRACKER_RELIABILITY_FULL=1`, 300 (about 5 min: run the file alone with
// `--test-timeout=0`).
describeStateMachine(postgresBackend(), { default: 20, full: 300 });
