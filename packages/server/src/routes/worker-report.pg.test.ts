// The same suite as worker-report.test.ts, on PostgreSQL (a fresh schema per tracker): see testing/helpers.ts.
export {};

process.env.JOBTRACKER_TEST_DIALECT = 'postgres';
await import('./worker-report.test.js');
