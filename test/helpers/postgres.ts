import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import type { Clock } from '../../src/core/index.js';
import { createPostgresStore, type Store } from '../../src/store/index.js';

export const testPostgresUrl = process.env.QERDS_TEST_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

/** A migrated PostgreSQL store in a schema of its own (qerds_test_<random>), and siblings on the same schema. */
export interface TestPostgresStore {
  readonly store: Store;
  readonly schema: string;
  /** Another store (own pool) on the same schema: another process, as it were. */
  openSibling(): Store;
  /** Closes every store opened and drops the schema and blob directory. */
  dispose(): Promise<void>;
}

/**
 * PostgreSQL is a real dependency: when it is not reachable this FAILS with the reason (never skips).
 * Each call gets a fresh schema, so tests running at once on the shared server never see each other.
 */
export async function testPostgresStore(options: { clock?: Clock } = {}): Promise<TestPostgresStore> {
  const admin = new pg.Client({ connectionString: testPostgresUrl, connectionTimeoutMillis: 5000 });
  try {
    await admin.connect();
  } catch (error) {
    throw new Error(
      `PostgreSQL is not reachable at ${testPostgresUrl} (${(error as Error).message}). Start it, or point QERDS_TEST_PG_URL at a server the tests may create schemas in.`,
    );
  }
  const schema = `qerds_test_${randomBytes(6).toString('hex')}`;
  const dir = mkdtempSync(join(tmpdir(), 'qerds-pg-'));
  const opened: Store[] = [];
  const open = () => {
    const store = createPostgresStore({
      connectionString: testPostgresUrl,
      schema,
      blobDir: join(dir, 'blobs'),
      pool: { max: 4 },
      ...(options.clock ? { clock: options.clock } : {}),
    });
    opened.push(store);
    return store;
  };
  const store = open();
  await store.migrate();
  return {
    store,
    schema,
    openSibling: open,
    async dispose() {
      for (const s of opened) await s.close().catch(() => undefined);
      await admin.query(`drop schema if exists ${schema} cascade`);
      await admin.end();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
