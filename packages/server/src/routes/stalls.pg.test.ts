// The same suite as stalls.test.ts, on PostgreSQL (a fresh schema per tracker): see testing/helpers.ts.
export {};

process.env.JOBTRACKER_TEST_DIALECT = 'postgres';
await import('./stalls.test.js');
