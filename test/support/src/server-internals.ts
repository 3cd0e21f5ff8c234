// The server's internals that tests and benchmarks use (the engine, its record and wire mapping, request
// schemas, the pg feed's connection name): the one documented way to reach them from outside the
// server package. Not part of the server's public API; see packages/server/src/internal.ts.
export * from '@jobtracker/server/internal';
