// The SDK's internals that tests use (its SSE parser): the one documented way to reach them from outside
// the SDK package. Not part of the SDK's public API; see packages/sdk/src/internal.ts.
export * from '@jobtracker/sdk/internal';
