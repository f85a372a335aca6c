import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { cachingStatements } from '../../src/store/sqlite-statement-cache.js';

describe('cachingStatements', () => {
  const database = new Database(':memory:');
  afterEach(() => database.exec('drop table if exists t'));

  it('prepares a SQL text once and hands the same statement back', () => {
    const cached = cachingStatements(database);
    database.exec('create table t (n integer)');
    const insert = cached.prepare('insert into t (n) values (?)');
    expect(cached.prepare('insert into t (n) values (?)')).toBe(insert);
    insert.run([1]);
    cached.prepare('insert into t (n) values (?)').run([2]);
    expect(cached.prepare('select n from t order by n').all([])).toEqual([{ n: 1 }, { n: 2 }]);
  });

  it('gives a fresh statement while the cached one is still iterating', () => {
    const cached = cachingStatements(database);
    database.exec('create table t (n integer); insert into t values (1), (2)');
    const sql = 'select n from t order by n';
    const seen: unknown[] = [];
    for (const row of cached.prepare(sql).iterate([])) seen.push(row, cached.prepare(sql).all([]));
    expect(seen).toEqual([{ n: 1 }, [{ n: 1 }, { n: 2 }], { n: 2 }, [{ n: 1 }, { n: 2 }]]);
  });

  it('keeps at most capacity statements, least recently used out', () => {
    const cached = cachingStatements(database, 2);
    const one = cached.prepare('select 1');
    const two = cached.prepare('select 2');
    expect(cached.prepare('select 1')).toBe(one);
    cached.prepare('select 3');
    expect(cached.prepare('select 1')).toBe(one);
    expect(cached.prepare('select 2')).not.toBe(two);
  });

  it('still sees a schema change after a statement was cached', () => {
    const cached = cachingStatements(database);
    database.exec('create table t (n integer); insert into t values (1)');
    expect(cached.prepare('select * from t').all([])).toEqual([{ n: 1 }]);
    database.exec('alter table t add column m integer default 7');
    expect(cached.prepare('select * from t').all([])).toEqual([{ n: 1, m: 7 }]);
  });
});
