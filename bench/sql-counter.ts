import Database from 'better-sqlite3';

/** What the SQLite stores of this process ran while a SqlCounter counted. */
export interface SqlCounts {
  /** Statements other than BEGIN, COMMIT and ROLLBACK. */
  readonly statements: number;
  /** Transactions committed (COMMIT). */
  readonly commits: number;
  /** Writes run outside a transaction: each is a commit of its own (with its WAL fsync). */
  readonly autocommitWrites: number;
  readonly rollbacks: number;
  /** Statements by their SQL text's first 60 characters, most frequent first. */
  readonly bySql: ReadonlyArray<readonly [string, number]>;
  /**
   * Wall milliseconds spent inside better-sqlite3's calls (synchronous: the event loop waits for them), BEGIN,
   * COMMIT (with its fsync) and ROLLBACK included.
   */
  readonly ms: number;
  /** The same by SQL text (BEGIN / COMMIT / ROLLBACK as such), most time first. */
  readonly msBySql: ReadonlyArray<readonly [string, number]>;
}

export interface SqlCounter {
  /** The counts so far; counting goes on. */
  counts(): SqlCounts;
  stop(): void;
}

/**
 * Counts the statements and commits of every better-sqlite3 database of this process (both access points
 * of the demo path, their stores), by wrapping the prepared statement's methods: what the store's share of
 * a message is in database work, independent of the machine's load. A write outside a transaction is an
 * autocommit: a commit (and, in WAL with synchronous FULL, an fsync) of its own.
 */
export function countSqlStatements(): SqlCounter {
  const probe = new Database(':memory:');
  const prototype = Object.getPrototypeOf(probe.prepare('select 1')) as Record<string, unknown>;
  probe.close();
  const methods = ['run', 'all', 'get', 'iterate'] as const;
  const original = Object.fromEntries(methods.map((m) => [m, prototype[m]])) as Record<
    (typeof methods)[number],
    (...args: unknown[]) => unknown
  >;
  let statements = 0;
  let commits = 0;
  let autocommitWrites = 0;
  let rollbacks = 0;
  const bySql = new Map<string, number>();
  let ns = 0n;
  const nsBySql = new Map<string, bigint>();
  for (const method of methods) {
    prototype[method] = function (this: Database.Statement, ...args: unknown[]) {
      const sql = this.source.trim().toLowerCase();
      const key = sql.replace(/\s+/g, ' ').slice(0, 60);
      if (sql === 'commit') commits++;
      else if (sql === 'rollback') rollbacks++;
      // The group commit's own look at the connection's change counter (src/store/sqlite-group-commit.ts): timed,
      // not counted as the store's work.
      else if (!sql.startsWith('begin') && sql !== 'select total_changes()') {
        statements++;
        bySql.set(key, (bySql.get(key) ?? 0) + 1);
        if (!this.database.inTransaction && /^(insert|update|delete|replace)\b/.test(sql)) autocommitWrites++;
      }
      const t0 = process.hrtime.bigint();
      try {
        return original[method].apply(this, args);
      } finally {
        const spent = process.hrtime.bigint() - t0;
        ns += spent;
        nsBySql.set(key, (nsBySql.get(key) ?? 0n) + spent);
      }
    };
  }
  return {
    counts: () => ({
      statements,
      commits,
      autocommitWrites,
      rollbacks,
      bySql: [...bySql].sort((a, b) => b[1] - a[1]),
      ms: Number(ns) / 1e6,
      msBySql: [...nsBySql].map(([sql, n]) => [sql, Number(n) / 1e6] as const).sort((a, b) => b[1] - a[1]),
    }),
    stop() {
      Object.assign(prototype, original);
    },
  };
}
