// The same suite as worker-events.test.ts, on PostgreSQL (a fresh schema per server): see testing/helpers.ts.
export {};

process.env.JOBTRACKER_TEST_DIALECT = 'postgres';
await import('./worker-events.test.js');
