// The same suite as engine-worker-api.test.ts, on PostgreSQL (a fresh schema per tracker): see testing/helpers.ts.
export {};

process.env.JOBTRACKER_TEST_DIALECT = 'postgres';
await import('./engine-worker-api.test.js');
