import Database from 'better-sqlite3';
import { Kysely, sql, SqliteDialect } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { compiledStatement } from '../../src/store/compiled-statement.js';

interface TestDb {
  t: { name: string; n: number; note: string | null };
}

describe('compiledStatement', () => {
  let db: Kysely<TestDb>;
  beforeAll(async () => {
    db = new Kysely<TestDb>({ dialect: new SqliteDialect({ database: new Database(':memory:') }) });
    await sql`create table t (name text primary key, n integer not null, note text)`.execute(db);
    await db
      .insertInto('t')
      .values([
        { name: 'a', n: 1, note: null },
        { name: 'b', n: 2, note: 'x' },
        { name: 'c', n: 3, note: 'x' },
      ])
      .execute();
  });
  afterAll(() => db.destroy());

  it('builds and compiles once, then binds each call its own values', async () => {
    let builds = 0;
    const byNote = compiledStatement((note: string, above: number) => {
      builds++;
      return db
        .selectFrom('t')
        .select('name')
        .where('note', '=', note)
        .where('n', '>', above)
        .orderBy('name');
    });
    expect((await byNote.run(db, 'x', 0)).rows).toEqual([{ name: 'b' }, { name: 'c' }]);
    expect((await byNote.run(db, 'x', 2)).rows).toEqual([{ name: 'c' }]);
    expect((await byNote.run(db, 'y', 0)).rows).toEqual([]);
    expect(builds).toBe(1);
  });

  it('keeps the constants it was compiled with and binds a value used twice at both places', async () => {
    const firstOf = compiledStatement((name: string) =>
      db
        .selectFrom('t')
        .select('n')
        .where((eb) => eb.or([eb('name', '=', name), eb('note', '=', name)]))
        .orderBy('n')
        .limit(1),
    );
    expect((await firstOf.run(db, 'c')).rows).toEqual([{ n: 3 }]);
    expect((await firstOf.run(db, 'x')).rows).toEqual([{ n: 2 }]);
  });

  it('runs in a transaction given as the runner, and reports affected rows of writes', async () => {
    const setNote = compiledStatement((note: string | null, name: string) =>
      db.updateTable('t').set({ note }).where('name', '=', name),
    );
    const inserted = await db.transaction().execute(async (trx) => {
      const result = await setNote.run(trx, 'in trx', 'a');
      return Number(result.numAffectedRows);
    });
    expect(inserted).toBe(1);
    expect(Number((await setNote.run(db, null, 'nobody')).numAffectedRows)).toBe(0);
    const note = await db.selectFrom('t').select('note').where('name', '=', 'a').executeTakeFirst();
    expect(note).toEqual({ note: 'in trx' });
    // NULL binds as a value (not the column default, not the text 'null').
    await setNote.run(db, null, 'a');
    const cleared = await db.selectFrom('t').select('note').where('name', '=', 'a').executeTakeFirst();
    expect(cleared).toEqual({ note: null });
  });

  it('refuses an argument that is not a bound parameter: used as an identifier, or to choose the shape', async () => {
    const asIdentifier = compiledStatement((column: string) =>
      db.selectFrom('t').select(sql.ref<string>(column).as('v')),
    );
    await expect(asIdentifier.run(db, 'name')).rejects.toThrow(/argument 0 is not a bound parameter/);
    const asShape = compiledStatement((name: string) =>
      name === 'a' ? db.selectFrom('t').select('n').where('name', '=', name) : db.selectFrom('t').select('n'),
    );
    await expect(asShape.run(db, 'a')).rejects.toThrow(/argument 0 is not a bound parameter/);
  });

  it('refuses an undefined value instead of binding NULL in its place', async () => {
    const byName = compiledStatement((name: string) =>
      db.selectFrom('t').select('n').where('name', '=', name),
    );
    await expect(byName.run(db, undefined as unknown as string)).rejects.toThrow(/argument 0 is undefined/);
  });
});
