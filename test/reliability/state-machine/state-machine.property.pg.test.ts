import { postgresBackend } from './backends.js';
import { describeStateMachine } from './property.js';

// The engine in shared mode, each sequence on a fresh schema of the test PostgreSQL database (a schema,
// its migration and a round trip per read make a sequence about 0.4 s): 30 sequences by default (about
// 10 s) to keep CI short; with `JOBTRACKER_RELIABILITY_FULL=1`, 2,000 as on SQLite (about 9 min: run
// the file alone with `--test-timeout=0`).
describeStateMachine(postgresBackend(), { default: 30, full: 2_000 });
