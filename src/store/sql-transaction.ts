import type { Kysely } from 'kysely';
import { assertTransition, formatParticipantId, QerdsError, type Clock } from '../core/index.js';
import type { SqlFlavour } from './flavour.js';
import { partsToJson } from './rows.js';
import { toDbTime, type StoreDatabase } from './schema.js';
import type { StoreTransaction } from './types.js';

/** The writes that commit together, on one open Kysely transaction. */
export function createSqlTransaction(db: Kysely<StoreDatabase>, flavour: SqlFlavour, clock: Clock): StoreTransaction {
  return {
    async insertMessage(message) {
      const now = toDbTime(clock.now());
      try {
        await db
          .insertInto('messages')
          .values({
            id: message.id,
            ebms_message_id: message.ebmsMessageId,
            role: message.role,
            state: message.state,
            sender: formatParticipantId(message.sender),
            recipient: formatParticipantId(message.recipient),
            subject: message.subject ?? null,
            parts: partsToJson(message.parts),
            peer: message.peer ?? null,
            attempts: 0,
            last_error: null,
            submitted_at: toDbTime(message.submittedAt),
            updated_at: now,
          })
          .execute();
      } catch (error) {
        throw duplicateOr(flavour, error, `message ${message.id} or ebMS MessageId ${message.ebmsMessageId} (${message.role}) already stored`);
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
      return Number(result.numUpdatedRows) === 1;
    },

    async insertEvidence(evidence, options = {}) {
      // Lock the message row so that concurrent writers of one message's chain queue up instead of
      // both computing the same next sequence (PostgreSQL; SQLite has a single writer anyway).
      let owner = db.selectFrom('messages').select('id').where('id', '=', evidence.messageId);
      if (flavour.rowLocks) owner = owner.forUpdate();
      if (!(await owner.executeTakeFirst())) throw new QerdsError('NOT_FOUND', `message ${evidence.messageId} not found`);
      const last = await db
        .selectFrom('evidence')
        .select(['id', 'sequence'])
        .where('message_id', '=', evidence.messageId)
        .orderBy('sequence', 'desc')
        .limit(1)
        .executeTakeFirst();
      // Read under the row lock above: no other writer of this chain can slip in between this check and the insert.
      if (options.previousId !== undefined && (last?.id ?? null) !== options.previousId) {
        throw new QerdsError('STORE_CHAIN_MOVED', `evidence chain of message ${evidence.messageId} moved on: its head is ${last?.id ?? 'empty'}, not ${options.previousId ?? 'empty'}`);
      }
      const sequence = Number(last?.sequence ?? 0) + 1;
      try {
        await db
          .insertInto('evidence')
          .values({
            id: evidence.id,
            message_id: evidence.messageId,
            event: evidence.event,
            event_time: toDbTime(evidence.eventTime),
            sequence,
            xml: evidence.xml,
            issued_by: evidence.issuedBy,
          })
          .execute();
      } catch (error) {
        throw duplicateOr(flavour, error, `evidence ${evidence.id} already stored`);
      }
      return { ...evidence, sequence };
    },

    async enqueue(stage, messageId, data = {}, options = {}) {
      const now = clock.now();
      await db
        .insertInto('outbox')
        .values({
          stage,
          message_id: messageId,
          data: JSON.stringify(data),
          created_at: toDbTime(now),
          not_before: toDbTime(options.notBefore ?? now),
          attempts: 0,
          leased_until: null,
          last_error: null,
          dead_at: null,
        })
        .execute();
    },
  };
}

function duplicateOr(flavour: SqlFlavour, error: unknown, message: string): unknown {
  return flavour.isUniqueViolation(error) ? new QerdsError('STORE_DUPLICATE', message, { cause: error }) : error;
}
