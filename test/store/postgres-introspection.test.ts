import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Kysely } from 'kysely';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { createPostgresStore } from '../../src/store/index.js';
import { StorePostgresDialect } from '../../src/store/postgres-introspector.js';

const url = process.env.QERDS_TEST_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const tag = randomBytes(5).toString('hex');
const ours = `qerds_test_${tag}_own`;
const other = `qerds_test_${tag}_other`;
const dir = mkdtempSync(join(tmpdir(), 'qerds-pg-introspection-'));
const admin = new pg.Client({ connectionString: url });

afterAll(async () => {
  await admin.query(`drop schema if exists ${ours} cascade`).catch(() => undefined);
  await admin.query(`drop schema if exists ${other} cascade`).catch(() => undefined);
  await admin.end().catch(() => undefined);
  rmSync(dir, { recursive: true, force: true });
});

/**
 * Several APs (or test runs) share one PostgreSQL server. Kysely's own introspector read every schema with
 * has_schema_privilege() by name, so a schema dropped by someone else during a migration failed it with
 * "schema … does not exist" (seen in CI). The store's introspector reads its own schema alone.
 */
describe('PostgreSQL store: introspection stays in its own schema', () => {
  it("lists only its schema's tables, whatever else the server holds", async () => {
    await admin.connect();
    await admin.query(`create schema ${other}; create table ${other}.messages (id text)`);
    const store = createPostgresStore({ connectionString: url, schema: ours, blobDir: join(dir, 'blobs') });
    await store.migrate();
    await store.close();

    const pool = new pg.Pool({ connectionString: url, max: 1 });
    const db = new Kysely<unknown>({ dialect: new StorePostgresDialect({ pool }, ours) });
    try {
      const tables = await db.introspection.getTables({ withInternalKyselyTables: true });
      expect(new Set(tables.map((t) => t.schema))).toEqual(new Set([ours]));
      expect(tables.map((t) => t.name)).toEqual(expect.arrayContaining(['messages', 'kysely_migration']));
      expect(await db.introspection.getSchemas()).toEqual([{ name: ours }]);
    } finally {
      await db.destroy();
    }
  });

  it('migrates while other schemas are created and dropped around it', async () => {
    let churning = true;
    const churn = (async () => {
      for (let i = 0; churning; i++) {
        const name = `qerds_test_${tag}_churn`;
        await admin.query(
          `create schema if not exists ${name}; create table if not exists ${name}.t${i % 3} (x int)`,
        );
        await admin.query(`drop schema ${name} cascade`);
      }
    })();
    try {
      for (let round = 0; round < 15; round++) {
        const store = createPostgresStore({
          connectionString: url,
          schema: ours,
          blobDir: join(dir, 'blobs'),
        });
        try {
          await store.migrate();
        } finally {
          await store.close();
        }
      }
    } finally {
      churning = false;
      await churn;
    }
  });
});
