// The same suite as long-poll.test.ts, on PostgreSQL (a fresh schema per server).
export {};

process.env.JOBTRACKER_TEST_DIALECT = 'postgres';
await import('./long-poll.test.js');
