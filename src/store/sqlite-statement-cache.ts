import type { Database, Statement } from 'better-sqlite3';
import type { SqliteDatabase } from 'kysely';

/**
 * Kysely's SQLite driver calls `prepare` for every query: SQLite parses and plans the same few dozen
 * statements again and again (a fifth of the demo path's CPU went there). Kysely compiles a query to
 * the same SQL text each time with the values as parameters, so a statement prepared once per SQL text
 * is reused; SQLite re-prepares it by itself when the schema changes (sqlite3_prepare_v2).
 * Bounded (least recently used out) because raw SQL could otherwise grow the map without limit.
 */
export function cachingStatements(database: Database, capacity = 256): SqliteDatabase {
  const statements = new Map<string, Statement>();
  return {
    prepare(sql: string): Statement {
      const cached = statements.get(sql);
      // A statement still iterating (a streamed select) cannot run again: a fresh one is prepared for this use.
      if (cached?.busy) return database.prepare(sql);
      if (cached) {
        statements.delete(sql);
        statements.set(sql, cached);
        return cached;
      }
      const statement = database.prepare(sql);
      statements.set(sql, statement);
      if (statements.size > capacity) statements.delete(statements.keys().next().value!);
      return statement;
    },
    close(): void {
      statements.clear();
      database.close();
    },
  };
}
