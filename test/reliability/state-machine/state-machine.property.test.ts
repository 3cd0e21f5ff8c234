import { sqliteBackend } from './backends.js';
import { describeStateMachine } from './property.js';

// 300 sequences of 7 to 40 steps by default (about 12 s on two cores); with
// `JOBTRACKER_RELIABILITY_FULL=1`, 2,000 (about 60 s, inside the 120 s a test file gets in `npm test`).
describeStateMachine(sqliteBackend(), { default: 300, full: 2_000 });
