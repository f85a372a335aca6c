import { Kysely } from 'kysely';
import pg from 'pg';
import { QerdsError, systemClock, type Clock } from '../core/index.js';
import { createFileBlobStore } from './file-blob-store.js';
import { postgresFlavour } from './flavour.js';
import { StorePostgresDialect } from './postgres-introspector.js';
import type { StoreDatabase } from './schema.js';
import { createSqlStore } from './sql-store.js';
import type { Store } from './types.js';

export interface PostgresStoreOptions {
  /** e.g. `postgres://user@host:5432/db`. */
  readonly connectionString: string;
  /** Directory of payload blobs (shared by every process of the AP, e.g. a network volume). */
  readonly blobDir: string;
  /**
   * Largest payload blob whose bytes the database holds (written with the message that names it, no file);
   * 0: every blob is a file. @defaultValue 65536
   */
  readonly inlineBlobMaxBytes?: number | undefined;
  /** Schema holding the tables; created by migrate() when missing. @defaultValue 'public' */
  readonly schema?: string;
  readonly pool?: {
    /** Most connections open at once. @defaultValue 10 */
    readonly max?: number;
  };
  /** @defaultValue systemClock */
  readonly clock?: Clock;
  /** Years an evidence is kept after its event time: deleteEvidence refuses before. @defaultValue 10 */
  readonly retentionYears?: number;
}

const schemaPattern = /^[a-z_][a-z0-9_]{0,62}$/;

/** The store at scale: PostgreSQL (pg pool) plus a blob directory. Connects lazily. */
export function createPostgresStore(options: PostgresStoreOptions): Store {
  const schema = options.schema ?? 'public';
  // The schema name goes into a connection parameter unquoted: only plain identifiers, so a config
  // value cannot smuggle other settings or SQL into the session.
  if (!schemaPattern.test(schema)) {
    throw new QerdsError(
      'CONFIG_INVALID',
      `store: PostgreSQL schema "${schema}" must match ${schemaPattern.source}`,
    );
  }
  const pool = new pg.Pool({
    connectionString: options.connectionString,
    max: options.pool?.max ?? 10,
    // Every connection resolves the store's unqualified table names in `schema`.
    options: `-c search_path=${schema}`,
    // Names the AP's sessions in pg_stat_activity (operators, and tests that drop exactly these connections).
    application_name: `qerds-ap:${schema}`,
  });
  // An idle connection dropped by the server (restart, failover) is reported on the pool; without a
  // listener Node would treat it as an uncaught error and stop the AP. The pool replaces the
  // connection, and the next query reports any lasting outage.
  pool.on('error', () => undefined);
  // The pool listens only while a connection is idle. A connection checked out but between two
  // statements (inside a transaction, or just before release) that the server drops (restart,
  // pg_terminate_backend) emits 'error' with no listener, and Node stops the whole process. Each
  // connection keeps a listener of its own: the next statement on it fails (the job is retried) and
  // pg-pool discards it on release, as it is no longer queryable.
  pool.on('connect', (client) => client.on('error', () => undefined));
  const db = new Kysely<StoreDatabase>({ dialect: new StorePostgresDialect({ pool }, schema) });
  return createSqlStore({
    db,
    flavour: postgresFlavour,
    files: createFileBlobStore(options.blobDir),
    inlineBlobMaxBytes: options.inlineBlobMaxBytes,
    clock: options.clock ?? systemClock,
    retentionYears: options.retentionYears,
    migrationTableSchema: schema,
  });
}
