import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll } from 'vitest';
import { createPostgresStore, type Store } from '../../src/store/index.js';
import { describeStoreConformance } from './store-conformance.js';

const url = process.env.QERDS_TEST_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const schemas: string[] = [];
let admin: pg.Client | undefined;
let reachable: Promise<pg.Client> | undefined;

/**
 * PostgreSQL is a real dependency of these tests: when it is not there every test FAILS with this
 * message (checked inside each test, not in a hook, so that no runner reports them as skipped).
 */
function connectAdmin(): Promise<pg.Client> {
  reachable ??= (async () => {
    const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 5000 });
    try {
      await client.connect();
      await client.query('select 1');
    } catch (error) {
      await client.end().catch(() => undefined);
      throw new Error(
        `PostgreSQL is not reachable at ${url} (${(error as Error).message}). Start it, or point QERDS_TEST_PG_URL at a server the tests may create schemas in.`,
      );
    }
    admin = client;
    return client;
  })();
  return reachable;
}

afterAll(async () => {
  for (const schema of schemas) await admin?.query(`drop schema if exists ${schema} cascade`);
  await admin?.end();
});

// Each test gets a fresh schema (qerds_test_<random>), dropped at the end of the run.
describeStoreConformance('PostgreSQL (pg)', async ({ clock }) => {
  const client = await connectAdmin();
  const schema = `qerds_test_${randomBytes(6).toString('hex')}`;
  schemas.push(schema);
  const dir = mkdtempSync(join(tmpdir(), 'qerds-store-pg-'));
  const blobDir = join(dir, 'blobs');
  const open = () => createPostgresStore({ connectionString: url, schema, blobDir, clock, pool: { max: 4 } });
  const opened: Store[] = [];
  const store = open();
  opened.push(store);
  await store.migrate();
  return {
    store,
    blobDir,
    siblingIsConcurrent: true,
    async openSibling() {
      const sibling = open();
      opened.push(sibling);
      return sibling;
    },
    async dispose() {
      for (const s of opened) await s.close();
      await client.query(`drop schema if exists ${schema} cascade`);
      rmSync(dir, { recursive: true, force: true });
    },
  };
});
