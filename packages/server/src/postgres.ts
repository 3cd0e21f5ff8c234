// The PostgreSQL store, apart from the package's root so that only its importers need `pg`.
export { PgStore, type PgStoreOptions } from './storage/pg/pg-store.js';
