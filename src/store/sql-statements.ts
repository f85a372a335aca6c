import type { Insertable, Kysely } from 'kysely';
import { compiledStatement, type CompiledStatement } from './compiled-statement.js';
import type { SqlFlavour } from './flavour.js';
import type { MessagesTable, OutboxTable, StoreDatabase } from './schema.js';

/** Columns of an inserted message row, in the order `insertMessage` takes their values. */
const messageColumns = [
  'id',
  'ebms_message_id',
  'role',
  'state',
  'sender',
  'recipient',
  'subject',
  'reference',
  'parts',
  'peer',
  'attempts',
  'last_error',
  'submitted_at',
  'updated_at',
] as const satisfies readonly (keyof MessagesTable)[];

/** Columns of an inserted outbox row (the id is generated), in the order `insertOutboxEntry` takes them. */
const outboxColumns = [
  'stage',
  'message_id',
  'data',
  'created_at',
  'not_before',
  'attempts',
  'leased_until',
  'last_error',
  'dead_at',
] as const satisfies readonly (keyof OutboxTable)[];

/** Which optional columns a state transition also sets: a bit each, one statement per combination. */
export interface TransitionPatchColumns {
  readonly attempts: boolean;
  readonly lastError: boolean;
  readonly peer: boolean;
}

/**
 * The statements a message runs on its way through the pipeline (each a handful of times per message),
 * compiled to SQL once per store (see compiledStatement). The store's other queries, rare or of variable
 * shape (lists, filters, stats), are built by Kysely at each call as before.
 */
export function createStoreStatements(db: Kysely<StoreDatabase>, flavour: SqlFlavour) {
  const transitions = new Map<number, CompiledStatement<readonly unknown[], unknown>>();
  const statements = {
    getMessage: compiledStatement((id: string) => db.selectFrom('messages').selectAll().where('id', '=', id)),

    findMessageByEbmsId: compiledStatement((ebmsMessageId: string, role: string) =>
      db
        .selectFrom('messages')
        .selectAll()
        .where('ebms_message_id', '=', ebmsMessageId)
        .where('role', '=', role),
    ),

    insertMessage: compiledStatement(
      (...values: readonly unknown[]) =>
        db
          .insertInto('messages')
          .values(
            Object.fromEntries(messageColumns.map((c, i) => [c, values[i]])) as Insertable<MessagesTable>,
          ),
      messageColumns.length,
    ),

    /** The row lock of a message whose evidence chain grows (PostgreSQL), and whether it exists. */
    lockMessage: compiledStatement((id: string) => {
      const owner = db.selectFrom('messages').select('id').where('id', '=', id);
      return flavour.rowLocks ? owner.forUpdate() : owner;
    }),

    getEvidence: compiledStatement((id: string) =>
      db.selectFrom('evidence').selectAll().where('id', '=', id),
    ),

    listEvidence: compiledStatement((messageId: string) =>
      db.selectFrom('evidence').selectAll().where('message_id', '=', messageId).orderBy('sequence'),
    ),

    evidenceHead: compiledStatement((messageId: string) =>
      db
        .selectFrom('evidence')
        .select(['id', 'sequence'])
        .where('message_id', '=', messageId)
        .orderBy('sequence', 'desc')
        .limit(1),
    ),

    /** A blob's row; `content` its bytes when it is held in the database, else null (a file). First row wins. */
    insertBlob: compiledStatement((sha256: string, size: number, createdAt: string, content: Buffer | null) =>
      db
        .insertInto('blobs')
        .values({ sha256, size, created_at: createdAt, content })
        .onConflict((oc) => oc.column('sha256').doNothing()),
    ),

    /** The bytes of a blob held in the database (no row: not there, or a file). */
    blobContent: compiledStatement((sha256: string) =>
      db.selectFrom('blobs').select('content').where('sha256', '=', sha256).where('content', 'is not', null),
    ),

    insertOutboxEntry: compiledStatement(
      (...values: readonly unknown[]) =>
        db
          .insertInto('outbox')
          .values(Object.fromEntries(outboxColumns.map((c, i) => [c, values[i]])) as Insertable<OutboxTable>),
      outboxColumns.length,
    ),

    /** Whether any outbox entry is due at `at` (the empty poll's one read). */
    outboxDue: compiledStatement((at: string) =>
      db
        .selectFrom('outbox')
        .select('id')
        .where('not_before', '<=', at)
        .where('dead_at', 'is', null)
        .where((eb) => eb.or([eb('leased_until', 'is', null), eb('leased_until', '<=', at)]))
        .limit(1),
    ),

    completeOutbox: compiledStatement((id: number, leaseToken: string) =>
      db.deleteFrom('outbox').where('id', '=', id).where('lease_token', '=', leaseToken),
    ),

    completeOutboxUnleased: compiledStatement((id: number) => db.deleteFrom('outbox').where('id', '=', id)),

    /**
     * The compare-and-set of a message's state, setting `updated_at` and the patch's columns:
     * values (to, updatedAt, [attempts], [lastError], [peer], id, from).
     */
    transition(columns: TransitionPatchColumns): CompiledStatement<readonly unknown[], unknown> {
      const key = (columns.attempts ? 1 : 0) | (columns.lastError ? 2 : 0) | (columns.peer ? 4 : 0);
      let statement = transitions.get(key);
      if (!statement) {
        const optional = [
          ...(columns.attempts ? ['attempts' as const] : []),
          ...(columns.lastError ? ['last_error' as const] : []),
          ...(columns.peer ? ['peer' as const] : []),
        ];
        statement = compiledStatement((...values: readonly unknown[]) => {
          const set: Record<string, unknown> = { state: values[0], updated_at: values[1] };
          optional.forEach((column, i) => (set[column] = values[2 + i]));
          return db
            .updateTable('messages')
            .set(set)
            .where('id', '=', values[2 + optional.length] as string)
            .where('state', '=', values[3 + optional.length] as string);
        }, 4 + optional.length);
        transitions.set(key, statement);
      }
      return statement;
    },

    /**
     * Appends an evidence to its message's chain: the next sequence, and the chain check of previousId, in
     * the insert itself (see SqlTransaction.insertEvidence). Values (id, messageId, event, eventTime, xml,
     * issuedBy[, previousId]); `chain`: no check, the chain must be empty, or its head must be previousId.
     */
    insertEvidence: {
      unchecked: compiledStatement((...v: readonly string[]) => insertEvidence(v, 'unchecked'), 6),
      first: compiledStatement((...v: readonly string[]) => insertEvidence(v, 'first'), 6),
      after: compiledStatement((...v: readonly string[]) => insertEvidence(v, 'after'), 7),
    },
  };

  function insertEvidence(v: readonly string[], chain: 'unchecked' | 'first' | 'after') {
    const [id, messageId, event, eventTime, xml, issuedBy, previousId] = v as [
      string,
      string,
      string,
      string,
      string,
      string,
      string,
    ];
    let source = db
      .selectFrom((eb) =>
        eb
          .selectFrom('evidence')
          .select((e) => e.fn.coalesce(e.fn.max('sequence'), e.lit(0)).as('n'))
          .where('message_id', '=', messageId)
          .as('head'),
      )
      .select((eb) => [
        eb.val(id).as('id'),
        eb.val(messageId).as('message_id'),
        eb.val(event).as('event'),
        eb.val(eventTime).as('event_time'),
        eb('head.n', '+', 1).as('sequence'),
        eb.val(xml).as('xml'),
        eb.val(issuedBy).as('issued_by'),
      ]);
    if (chain === 'first') source = source.where('head.n', '=', 0);
    // The head is previousId when previousId is this chain's evidence with the highest sequence.
    else if (chain === 'after')
      source = source.where('head.n', '=', (eb) =>
        eb
          .selectFrom('evidence')
          .select('sequence')
          .where('id', '=', previousId)
          .where('message_id', '=', messageId),
      );
    return db
      .insertInto('evidence')
      .columns(['id', 'message_id', 'event', 'event_time', 'sequence', 'xml', 'issued_by'])
      .expression(source)
      .returning('sequence');
  }

  return statements;
}

export type StoreStatements = ReturnType<typeof createStoreStatements>;

/** An outbox row's values in the order of `insertOutboxEntry`. */
export function outboxEntryValues(row: Insertable<OutboxTable>): unknown[] {
  return outboxColumns.map((c) => row[c] ?? null);
}

/** A message row's values in the order of `insertMessage`. */
export function messageRowValues(row: Insertable<MessagesTable>): unknown[] {
  return messageColumns.map((c) => row[c] ?? null);
}
