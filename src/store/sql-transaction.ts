import type { Insertable, Kysely } from 'kysely';
import { assertTransition, formatParticipantId, QerdsError, type Clock } from '../core/index.js';
import type { SqlFlavour } from './flavour.js';
import { messageFromRow, partsToJson } from './rows.js';
import { toDbTime, type OutboxTable, type StoreDatabase } from './schema.js';
import type { StoreTransaction } from './types.js';

/**
 * A StoreTransaction of the SQL stores. Its outbox entries are written by `flush`, which the owner of the
 * transaction calls once the work is done and before it commits: all of them in one INSERT (a job runs only
 * after the commit anyway, and nothing in a transaction reads the outbox).
 */
export interface SqlTransaction extends StoreTransaction {
  flush(): Promise<void>;
}

/** The writes that commit together, on one open Kysely transaction. */
export function createSqlTransaction(
  db: Kysely<StoreDatabase>,
  flavour: SqlFlavour,
  clock: Clock,
): SqlTransaction {
  /** Messages whose row this transaction inserted or updated: it holds their row lock until it ends. */
  const written = new Set<string>();
  /** Outbox entries enqueued, in order, not yet written (flush). */
  const outbox: Insertable<OutboxTable>[] = [];
  return {
    async insertMessage(message) {
      const row = {
        id: message.id,
        ebms_message_id: message.ebmsMessageId,
        role: message.role,
        state: message.state,
        sender: formatParticipantId(message.sender),
        recipient: formatParticipantId(message.recipient),
        subject: message.subject ?? null,
        reference: message.reference ?? null,
        parts: partsToJson(message.parts),
        peer: message.peer ?? null,
        attempts: 0,
        last_error: null,
        submitted_at: toDbTime(message.submittedAt),
        updated_at: toDbTime(clock.now()),
      };
      try {
        await db.insertInto('messages').values(row).execute();
      } catch (error) {
        throw duplicateOr(
          flavour,
          error,
          `message ${message.id} or ebMS MessageId ${message.ebmsMessageId} (${message.role}) already stored`,
        );
      }
      written.add(message.id);
      // The row as stored, mapped as a read of it would be: the caller need not read it back.
      return messageFromRow(row);
    },

    async insertReceptionKey(key, messageId) {
      try {
        await db
          .insertInto('reception_keys')
          .values({ reception_key: key, message_id: messageId, created_at: toDbTime(clock.now()) })
          .execute();
      } catch (error) {
        throw duplicateOr(flavour, error, `reception key ${key} already stored`);
      }
    },

    async transitionMessage(id, from, to, patch = {}) {
      assertTransition(from, to);
      const result = await db
        .updateTable('messages')
        .set({
          state: to,
          updated_at: toDbTime(clock.now()),
          ...(patch.attempts === undefined ? {} : { attempts: patch.attempts }),
          ...(patch.lastError === undefined ? {} : { last_error: patch.lastError }),
          ...(patch.peer === undefined ? {} : { peer: patch.peer }),
        })
        .where('id', '=', id)
        .where('state', '=', from)
        .executeTakeFirst();
      const moved = Number(result.numUpdatedRows) === 1;
      if (moved) written.add(id);
      return moved;
    },

    async insertEvidence(evidence, options = {}) {
      // Lock the message row so that concurrent writers of one message's chain queue up instead of
      // both computing the same next sequence (PostgreSQL; SQLite has a single writer anyway). A row this
      // transaction already wrote (insertMessage, or a transitionMessage that moved it) is locked until it
      // ends and is known to exist: no second statement for that.
      if (!written.has(evidence.messageId)) {
        let owner = db.selectFrom('messages').select('id').where('id', '=', evidence.messageId);
        if (flavour.rowLocks) owner = owner.forUpdate();
        if (!(await owner.executeTakeFirst()))
          throw new QerdsError('NOT_FOUND', `message ${evidence.messageId} not found`);
      }
      // The next sequence, and the chain check of previousId, in the insert itself. It has to be a statement
      // of its own after the lock: in PostgreSQL (READ COMMITTED) a statement reads with the snapshot it took
      // when it began, so a head read in the locking statement would miss an evidence that the writer it
      // waited for committed. Under the lock no other writer of this chain can slip in before the insert.
      const { messageId } = evidence;
      let source = db
        .selectFrom((eb) =>
          eb
            .selectFrom('evidence')
            .select((e) => e.fn.coalesce(e.fn.max('sequence'), e.lit(0)).as('n'))
            .where('message_id', '=', messageId)
            .as('head'),
        )
        .select((eb) => [
          eb.val(evidence.id).as('id'),
          eb.val(messageId).as('message_id'),
          eb.val(evidence.event).as('event'),
          eb.val(toDbTime(evidence.eventTime)).as('event_time'),
          eb('head.n', '+', 1).as('sequence'),
          eb.val(evidence.xml).as('xml'),
          eb.val(evidence.issuedBy).as('issued_by'),
        ]);
      if (options.previousId === null) source = source.where('head.n', '=', 0);
      // The head is previousId when previousId is this chain's evidence with the highest sequence.
      else if (options.previousId !== undefined) {
        const previousId = options.previousId;
        source = source.where('head.n', '=', (eb) =>
          eb
            .selectFrom('evidence')
            .select('sequence')
            .where('id', '=', previousId)
            .where('message_id', '=', messageId),
        );
      }
      let inserted;
      try {
        inserted = await db
          .insertInto('evidence')
          .columns(['id', 'message_id', 'event', 'event_time', 'sequence', 'xml', 'issued_by'])
          .expression(source)
          .returning('sequence')
          .executeTakeFirst();
      } catch (error) {
        throw duplicateOr(flavour, error, `evidence ${evidence.id} already stored`);
      }
      if (!inserted) {
        // Only with previousId: nothing was written. Read the head for the error (the rare path).
        const head = await db
          .selectFrom('evidence')
          .select('id')
          .where('message_id', '=', messageId)
          .orderBy('sequence', 'desc')
          .limit(1)
          .executeTakeFirst();
        throw new QerdsError(
          'STORE_CHAIN_MOVED',
          `evidence chain of message ${messageId} moved on: its head is ${head?.id ?? 'empty'}, not ${options.previousId ?? 'empty'}`,
        );
      }
      return { ...evidence, sequence: Number(inserted.sequence) };
    },

    async enqueue(stage, messageId, data = {}, options = {}) {
      const now = clock.now();
      outbox.push({
        stage,
        message_id: messageId,
        data: JSON.stringify(data),
        created_at: toDbTime(now),
        not_before: toDbTime(options.notBefore ?? now),
        attempts: 0,
        leased_until: null,
        last_error: null,
        dead_at: null,
      });
    },

    async flush() {
      if (outbox.length === 0) return;
      const entries = outbox.splice(0);
      await db.insertInto('outbox').values(entries).execute();
    },
  };
}

function duplicateOr(flavour: SqlFlavour, error: unknown, message: string): unknown {
  return flavour.isUniqueViolation(error)
    ? new QerdsError('STORE_DUPLICATE', message, { cause: error })
    : error;
}
