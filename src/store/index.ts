export * from './types.js';
export { storeErrors, type StoreErrorCode } from './errors.js';
export { createStore, type StoreConfig } from './create-store.js';
export { createSqliteStore, type SqliteStoreOptions } from './sqlite-store.js';
export { createPostgresStore, type PostgresStoreOptions } from './postgres-store.js';
export { createFileBlobStore } from './file-blob-store.js';
