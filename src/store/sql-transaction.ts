import type { Insertable, Kysely } from 'kysely';
import { assertTransition, formatParticipantId, QerdsError, type Clock } from '../core/index.js';
import type { SqlFlavour } from './flavour.js';
import { messageFromRow, partsToJson } from './rows.js';
import { toDbTime, type OutboxTable, type StoreDatabase } from './schema.js';
import { messageRowValues, outboxEntryValues, type StoreStatements } from './sql-statements.js';
import type { StoreTransaction } from './types.js';

/**
 * A StoreTransaction of the SQL stores. Its outbox entries are written by `flush`, which the owner of the
 * transaction calls once the work is done and before it commits: all of them in one INSERT (a job runs only
 * after the commit anyway, and nothing in a transaction reads the outbox).
 */
export interface SqlTransaction extends StoreTransaction {
  flush(): Promise<void>;
  /** Blobs whose bytes this transaction wrote into their rows (InlineBlobs.committed once it commits). */
  readonly inlinedBlobs: ReadonlySet<string>;
}

/** The writes that commit together, on one open Kysely transaction. */
export function createSqlTransaction(
  db: Kysely<StoreDatabase>,
  flavour: SqlFlavour,
  clock: Clock,
  statements: StoreStatements,
  /** The bytes of a small blob put and not yet stored (InlineBlobs.held): written into its row. */
  heldBlob: (sha256: string) => Buffer | undefined = () => undefined,
): SqlTransaction {
  /** Messages whose row this transaction inserted or updated: it holds their row lock until it ends. */
  const written = new Set<string>();
  /** Outbox entries enqueued, in order, not yet written (flush). */
  const outbox: Insertable<OutboxTable>[] = [];
  const inlinedBlobs = new Set<string>();
  return {
    inlinedBlobs,

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
        await statements.insertMessage.run(db, ...messageRowValues(row));
      } catch (error) {
        throw duplicateOr(
          flavour,
          error,
          `message ${message.id} or ebMS MessageId ${message.ebmsMessageId} (${message.role}) already stored`,
        );
      }
      written.add(message.id);
      // The blobs it names, recorded with it: a row is committed only with the message that references its blob,
      // and a blob no message names has no row (its file is the orphan sweep's, which goes by the messages' parts).
      // A small blob's bytes are in its row (held in memory since the put), so they are on disk exactly when the
      // message is; a file was put and fsynced before. One commit for all of it, not one per put.
      const stored = new Set<string>();
      for (const [sha256, size] of message.parts.flatMap((p) => [
        [p.sha256, p.size] as const,
        ...(p.plaintextSha256 === undefined || p.plaintextSize === undefined
          ? []
          : [[p.plaintextSha256, p.plaintextSize] as const]),
      ])) {
        if (stored.has(sha256)) continue;
        stored.add(sha256);
        const content = heldBlob(sha256);
        await statements.insertBlob.run(db, sha256, size, row.updated_at, content ?? null);
        if (content) inlinedBlobs.add(sha256);
      }
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
      const columns = {
        attempts: patch.attempts !== undefined,
        lastError: patch.lastError !== undefined,
        peer: patch.peer !== undefined,
      };
      const result = await statements
        .transition(columns)
        .run(
          db,
          to,
          toDbTime(clock.now()),
          ...(columns.attempts ? [patch.attempts] : []),
          ...(columns.lastError ? [patch.lastError] : []),
          ...(columns.peer ? [patch.peer] : []),
          id,
          from,
        );
      const moved = Number(result.numAffectedRows) === 1;
      if (moved) written.add(id);
      return moved;
    },

    async insertEvidence(evidence, options = {}) {
      // Lock the message row so that concurrent writers of one message's chain queue up instead of
      // both computing the same next sequence (PostgreSQL). A row this transaction already wrote (insertMessage,
      // or a transitionMessage that moved it) is locked until it ends and is known to exist: no second statement
      // for that. SQLite has a single writer (every transaction begins IMMEDIATE): no lock to take, and the
      // evidence's foreign key refuses an unknown message (NOT_FOUND below).
      if (flavour.rowLocks && !written.has(evidence.messageId)) {
        const { rows } = await statements.lockMessage.run(db, evidence.messageId);
        if (rows.length === 0) throw new QerdsError('NOT_FOUND', `message ${evidence.messageId} not found`);
      }
      // The next sequence, and the chain check of previousId, in the insert itself. It has to be a statement
      // of its own after the lock: in PostgreSQL (READ COMMITTED) a statement reads with the snapshot it took
      // when it began, so a head read in the locking statement would miss an evidence that the writer it
      // waited for committed. Under the lock no other writer of this chain can slip in before the insert.
      const { messageId } = evidence;
      const values = [
        evidence.id,
        messageId,
        evidence.event,
        toDbTime(evidence.eventTime),
        evidence.xml,
        evidence.issuedBy,
      ] as const;
      const { insertEvidence } = statements;
      let inserted;
      try {
        const { rows } =
          options.previousId === undefined
            ? await insertEvidence.unchecked.run(db, ...values)
            : options.previousId === null
              ? await insertEvidence.first.run(db, ...values)
              : await insertEvidence.after.run(db, ...values, options.previousId);
        inserted = rows[0];
      } catch (error) {
        if (flavour.isForeignKeyViolation(error))
          throw new QerdsError('NOT_FOUND', `message ${messageId} not found`, { cause: error });
        throw duplicateOr(flavour, error, `evidence ${evidence.id} already stored`);
      }
      if (!inserted) {
        // SQLite took no lock that would have found the message missing: an unknown message is not a moved chain.
        if (!flavour.rowLocks && (await statements.lockMessage.run(db, messageId)).rows.length === 0)
          throw new QerdsError('NOT_FOUND', `message ${messageId} not found`);
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

    async completeOutbox(id, leaseToken) {
      const result =
        leaseToken === undefined
          ? await statements.completeOutboxUnleased.run(db, id)
          : await statements.completeOutbox.run(db, id, leaseToken);
      return Number(result.numAffectedRows) === 1;
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
      // One entry (the usual case) by its compiled statement; several in one INSERT.
      if (entries.length === 1) await statements.insertOutboxEntry.run(db, ...outboxEntryValues(entries[0]!));
      else await db.insertInto('outbox').values(entries).execute();
    },
  };
}

function duplicateOr(flavour: SqlFlavour, error: unknown, message: string): unknown {
  return flavour.isUniqueViolation(error)
    ? new QerdsError('STORE_DUPLICATE', message, { cause: error })
    : error;
}
