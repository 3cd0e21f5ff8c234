// The same suite as deltas.test.ts, on PostgreSQL (a fresh schema per server).
export {};

process.env.JOBTRACKER_TEST_DIALECT = 'postgres';
await import('./deltas.test.js');
