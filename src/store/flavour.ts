/**
 * The few places where SQLite and PostgreSQL differ, kept together. Everything else (schema, queries)
 * is one Kysely code path.
 */
export interface SqlFlavour {
  readonly kind: 'sqlite' | 'postgres';
  /**
   * Whether row locks (`FOR UPDATE`, `SKIP LOCKED`) exist. PostgreSQL needs them for concurrent
   * writers; SQLite has one writer at a time (transactions begin IMMEDIATE), so it needs none.
   */
  readonly rowLocks: boolean;
  /** Column type of an auto-incrementing integer primary key. */
  readonly serialType: 'integer' | 'serial';
  /** Column type of bytes (blob content held in the database). */
  readonly binaryType: 'blob' | 'bytea';
  isUniqueViolation(error: unknown): boolean;
  /** A row naming a row that does not exist (the evidence of an unknown message). */
  isForeignKeyViolation(error: unknown): boolean;
}

export const sqliteFlavour: SqlFlavour = Object.freeze({
  kind: 'sqlite',
  rowLocks: false,
  serialType: 'integer',
  binaryType: 'blob',
  isUniqueViolation: (error: unknown) => {
    const code = (error as { code?: unknown } | null)?.code;
    return code === 'SQLITE_CONSTRAINT_UNIQUE' || code === 'SQLITE_CONSTRAINT_PRIMARYKEY';
  },
  isForeignKeyViolation: (error: unknown) =>
    (error as { code?: unknown } | null)?.code === 'SQLITE_CONSTRAINT_FOREIGNKEY',
});

export const postgresFlavour: SqlFlavour = Object.freeze({
  kind: 'postgres',
  rowLocks: true,
  serialType: 'serial',
  binaryType: 'bytea',
  // 23505 unique_violation (PostgreSQL error codes, appendix A).
  isUniqueViolation: (error: unknown) => (error as { code?: unknown } | null)?.code === '23505',
  // 23503 foreign_key_violation.
  isForeignKeyViolation: (error: unknown) => (error as { code?: unknown } | null)?.code === '23503',
});
