import { randomUUID } from 'node:crypto';
import { Migrator, type Kysely, type Selectable, type SelectQueryBuilder } from 'kysely';
import { QerdsError, type Clock } from '../core/index.js';
import type { SqlFlavour } from './flavour.js';
import { storeMigrations } from './migrations/index.js';
import { deadLetterFromRow, evidenceFromRow, messageFromRow, outboxFromRow } from './rows.js';
import { createStoreStatements } from './sql-statements.js';
import { createSqlTransaction } from './sql-transaction.js';
import { fromDbTime, toDbTime, type MessagesTable, type StoreDatabase } from './schema.js';
import { decodeInboxCursor, encodeInboxCursor } from './inbox-cursor.js';
import { createInlineBlobs, DEFAULT_INLINE_BLOB_MAX_BYTES } from './inline-blobs.js';
import type { BlobStore, InboxPage, Store } from './types.js';

export interface SqlStoreOptions {
  readonly db: Kysely<StoreDatabase>;
  readonly flavour: SqlFlavour;
  /**
   * Where the bytes of larger blobs live. The store adds a `blobs` row for each blob a message names, in the
   * transaction that inserts the message (not at the put: a put no message follows leaves a file for the orphan
   * sweep, no row); a small blob's bytes go into that row (inline-blobs.ts).
   */
  readonly files: BlobStore;
  /** Largest blob whose bytes the database holds; 0: every blob is a file. @defaultValue 65536 */
  readonly inlineBlobMaxBytes?: number | undefined;
  readonly clock: Clock;
  /** Schema of Kysely's own migration tables (PostgreSQL); the store's tables follow `search_path`. */
  readonly migrationTableSchema?: string;
  /** @defaultValue 10 */
  readonly retentionYears?: number | undefined;
  /**
   * Runs one of the calls that need not be on disk when they return (renewOutboxLease, completeOutbox,
   * completeOutboxEntries), given the Kysely to run it on: the SQLite store holds its connection meanwhile to count
   * what the call changed (sqlite-group-commit.ts). @defaultValue runs it on `db`
   */
  readonly unsynced?: <T>(work: (runner: Kysely<StoreDatabase>) => Promise<T>) => Promise<T>;
}

/** Default page size of listMessages. */
const defaultListLimit = 100;

/** A page of messages newest first in (submitted_at, id) order, after the cursor of the previous page. */
async function keysetPage(
  query: SelectQueryBuilder<StoreDatabase, 'messages', Selectable<MessagesTable>>,
  limit = defaultListLimit,
  after?: string,
): Promise<InboxPage> {
  if (after !== undefined) {
    const { submittedAt, id } = decodeInboxCursor(after);
    // Keyset: strictly older than the last row of the previous page, in (submitted_at, id) order.
    query = query.where((eb) =>
      eb.or([
        eb('submitted_at', '<', submittedAt),
        eb.and([eb('submitted_at', '=', submittedAt), eb('id', '<', id)]),
      ]),
    );
  }
  // One row more than asked tells whether a next page exists without a count.
  const rows = await query
    .orderBy('submitted_at', 'desc')
    .orderBy('id', 'desc')
    .limit(limit + 1)
    .execute();
  const page = rows.slice(0, limit);
  const last = page.at(-1);
  return {
    messages: page.map(messageFromRow),
    ...(rows.length > limit && last ? { next: encodeInboxCursor(last.submitted_at, last.id) } : {}),
  };
}

/** The query layer shared by every SQL engine: one Kysely code path, engine quirks in `flavour`. */
export function createSqlStore(options: SqlStoreOptions): Store {
  const { db, flavour, files, clock } = options;
  const retentionYears = options.retentionYears ?? 10;
  const statements = createStoreStatements(db, flavour);

  const inline = createInlineBlobs({
    files,
    maxBytes: options.inlineBlobMaxBytes ?? DEFAULT_INLINE_BLOB_MAX_BYTES,
    content: async (sha256) => {
      const [row] = (await statements.blobContent.run(db, sha256)).rows;
      return row?.content ?? undefined;
    },
  });
  const { blobs } = inline;
  const sqlTransaction = (runner: typeof db) =>
    createSqlTransaction(runner, flavour, clock, statements, inline.held);
  const unsynced = options.unsynced ?? ((work) => work(db));

  /** Which of `keys` a message's parts name (its blob, and the plaintext or as-submitted blob it keeps). One pass over the messages, by id. */
  const referencedBlobs = async (keys: ReadonlySet<string>): Promise<ReadonlySet<string>> => {
    const found = new Set<string>();
    let after = '';
    for (;;) {
      const rows = await db
        .selectFrom('messages')
        .select(['id', 'parts'])
        .where('id', '>', after)
        .orderBy('id')
        .limit(1000)
        .execute();
      for (const row of rows)
        for (const hex of row.parts.match(/[0-9a-f]{64}/g) ?? []) if (keys.has(hex)) found.add(hex);
      if (rows.length < 1000) return found;
      after = rows.at(-1)!.id;
    }
  };

  return {
    blobs,

    async migrate() {
      const migrator = new Migrator({
        db,
        provider: storeMigrations(flavour),
        ...(options.migrationTableSchema === undefined
          ? {}
          : { migrationTableSchema: options.migrationTableSchema }),
      });
      const { error, results } = await migrator.migrateToLatest();
      if (error) {
        const failed = results?.find((r) => r.status === 'Error')?.migrationName;
        throw new QerdsError(
          'STORE_MIGRATION_FAILED',
          `store migration ${failed ?? ''} failed: ${(error as Error).message}`,
          { cause: error },
        );
      }
    },

    async close() {
      await db.destroy();
    },

    async transaction(work) {
      let inlined: ReadonlySet<string> = new Set();
      const result = await db.transaction().execute(async (trx) => {
        const tx = sqlTransaction(trx);
        const value = await work(tx);
        await tx.flush();
        inlined = tx.inlinedBlobs;
        return value;
      });
      // Committed: the database holds these bytes now (not before: a rollback leaves them to the put's owner).
      inline.committed(inlined);
      return result;
    },

    transitionMessage(id, from, to, patch) {
      // The transaction's compare-and-set on the plain connection: one UPDATE, atomic by itself.
      return sqlTransaction(db).transitionMessage(id, from, to, patch);
    },

    async sweepOrphanBlobs({ graceMs }) {
      // The file system's time, not the injected clock: mtimes are the OS's, and a clock set ahead (tests,
      // a misconfigured clock source) must not make a blob being written look old. Small blobs held in memory
      // are timed alike (Date.now() at their put).
      return blobs.sweep({ olderThan: new Date(Date.now() - graceMs), referenced: referencedBlobs });
    },

    async getMessage(id) {
      const [row] = (await statements.getMessage.run(db, id)).rows;
      return row && messageFromRow(row);
    },

    async findMessageByEbmsId(ebmsMessageId, role) {
      const [row] = (await statements.findMessageByEbmsId.run(db, ebmsMessageId, role)).rows;
      return row && messageFromRow(row);
    },

    async listMessages(filter = {}) {
      let query = db.selectFrom('messages').selectAll();
      if (filter.state !== undefined) query = query.where('state', '=', filter.state);
      const rows = await query
        .orderBy('submitted_at', 'desc')
        .orderBy('id', 'desc')
        .limit(filter.limit ?? defaultListLimit)
        .execute();
      return rows.map(messageFromRow);
    },

    async listMessagesActiveBetween({ since, until, limit }) {
      const from = toDbTime(since);
      const to = toDbTime(until);
      const rows = await db
        .selectFrom('messages')
        .selectAll()
        .where((eb) =>
          eb.or([
            eb(
              'id',
              'in',
              eb
                .selectFrom('evidence')
                .select('message_id')
                .where('event_time', '>=', from)
                .where('event_time', '<', to),
            ),
            eb(
              'id',
              'in',
              eb
                .selectFrom('peer_receipts')
                .select('message_id')
                .where('received_at', '>=', from)
                .where('received_at', '<', to),
            ),
          ]),
        )
        .orderBy('submitted_at')
        .orderBy('id')
        .limit(limit ?? 1000)
        .execute();
      return rows.map(messageFromRow);
    },

    listInbox(filter) {
      if (filter.states.length === 0) return Promise.resolve({ messages: [] });
      const query = db
        .selectFrom('messages')
        .selectAll()
        .where('recipient', '=', filter.recipient)
        .where('role', '=', 'recipient-ap')
        .where('state', 'in', [...filter.states]);
      return keysetPage(query, filter.limit, filter.after);
    },

    listSent(filter) {
      if (filter.states?.length === 0) return Promise.resolve({ messages: [] });
      let query = db
        .selectFrom('messages')
        .selectAll()
        .where('sender', '=', filter.sender)
        .where('role', '=', 'sender-ap');
      if (filter.states !== undefined) query = query.where('state', 'in', [...filter.states]);
      if (filter.recipient !== undefined) query = query.where('recipient', '=', filter.recipient);
      if (filter.since !== undefined) query = query.where('submitted_at', '>=', toDbTime(filter.since));
      if (filter.until !== undefined) query = query.where('submitted_at', '<', toDbTime(filter.until));
      if (filter.reference !== undefined) query = query.where('reference', '=', filter.reference);
      return keysetPage(query, filter.limit, filter.after);
    },

    async listEvidence(messageId) {
      const { rows } = await statements.listEvidence.run(db, messageId);
      return rows.map(evidenceFromRow);
    },

    async findMessageByReceptionKey(key) {
      const row = await db
        .selectFrom('reception_keys')
        .innerJoin('messages', 'messages.id', 'reception_keys.message_id')
        .selectAll('messages')
        .where('reception_keys.reception_key', '=', key)
        .executeTakeFirst();
      return row && messageFromRow(row);
    },

    async insertPeerReceipt(receipt) {
      await db
        .insertInto('peer_receipts')
        .values({
          message_id: receipt.messageId,
          sha256: receipt.sha256,
          xml: receipt.xml,
          received_at: toDbTime(receipt.receivedAt),
        })
        .onConflict((oc) => oc.columns(['message_id', 'sha256']).doNothing())
        .execute();
    },

    async listPeerReceipts(messageId) {
      const rows = await db
        .selectFrom('peer_receipts')
        .selectAll()
        .where('message_id', '=', messageId)
        .orderBy('received_at')
        .orderBy('sha256')
        .execute();
      return rows.map((r) => ({
        messageId: r.message_id,
        sha256: r.sha256,
        xml: r.xml,
        receivedAt: fromDbTime(r.received_at),
      }));
    },

    async evidenceHead(messageId) {
      const [row] = (await statements.evidenceHead.run(db, messageId)).rows;
      return row && { id: row.id, sequence: Number(row.sequence) };
    },

    async latestEvidence(messageId) {
      const row = await db
        .selectFrom('evidence')
        .selectAll()
        .where('message_id', '=', messageId)
        .orderBy('sequence', 'desc')
        .limit(1)
        .executeTakeFirst();
      return row && evidenceFromRow(row);
    },

    async getEvidence(id) {
      const [row] = (await statements.getEvidence.run(db, id)).rows;
      return row && evidenceFromRow(row);
    },

    async scanEvidence(filter = {}) {
      let query = db.selectFrom('evidence').selectAll();
      if (filter.afterId !== undefined) query = query.where('id', '>', filter.afterId);
      const rows = await query
        .orderBy('id')
        .limit(filter.limit ?? defaultListLimit)
        .execute();
      return rows.map(evidenceFromRow);
    },

    async replaceEvidenceXml(id, xml, now) {
      await db.transaction().execute(async (trx) => {
        const row = await trx.selectFrom('evidence').select('xml').where('id', '=', id).executeTakeFirst();
        if (!row) throw new QerdsError('NOT_FOUND', `no evidence ${id}`);
        const last = await trx
          .selectFrom('evidence_versions')
          .select((eb) => eb.fn.max('version').as('v'))
          .where('evidence_id', '=', id)
          .executeTakeFirst();
        const version = Number(last?.v ?? 0) + 1;
        await trx
          .insertInto('evidence_versions')
          .values({ evidence_id: id, version, xml: row.xml, replaced_at: toDbTime(now) })
          .execute();
        await trx.updateTable('evidence').set({ xml }).where('id', '=', id).execute();
      });
    },

    async listEvidenceVersions(id) {
      const rows = await db
        .selectFrom('evidence_versions')
        .selectAll()
        .where('evidence_id', '=', id)
        .orderBy('version')
        .execute();
      return rows.map((r) => ({ version: r.version, xml: r.xml, replacedAt: fromDbTime(r.replaced_at) }));
    },

    async deleteEvidence(id, now) {
      await db.transaction().execute(async (trx) => {
        const row = await trx
          .selectFrom('evidence')
          .select('event_time')
          .where('id', '=', id)
          .executeTakeFirst();
        if (!row) throw new QerdsError('NOT_FOUND', `no evidence ${id}`);
        const until = fromDbTime(row.event_time);
        until.setUTCFullYear(until.getUTCFullYear() + retentionYears);
        if (now.getTime() < until.getTime()) {
          throw new QerdsError(
            'EVIDENCE_RETENTION_ACTIVE',
            `evidence ${id} is retained until ${until.toISOString()} (${retentionYears} years after its event)`,
            {
              details: { retainedUntil: until.toISOString() },
            },
          );
        }
        await trx.deleteFrom('evidence_versions').where('evidence_id', '=', id).execute();
        await trx.deleteFrom('evidence').where('id', '=', id).execute();
      });
    },

    async leaseOutbox(limit, leaseMs, now) {
      if (limit <= 0) return [];
      const at = toDbTime(now);
      const until = toDbTime(new Date(now.getTime() + leaseMs));
      // One statement, atomic by itself, with no BEGIN/COMMIT around it (every process polls the outbox; three
      // statements per lease instead of one were most of an idle cluster's database work). PostgreSQL: SKIP LOCKED
      // lets concurrent leasers pass over rows another one is taking. SQLite: a writing statement takes the write
      // lock before it reads anything (as BEGIN IMMEDIATE would), so its select-then-update has the only one.
      const due = (q: typeof db) =>
        q
          .selectFrom('outbox')
          .select('id')
          .where('not_before', '<=', at)
          .where('dead_at', 'is', null)
          .where((eb) => eb.or([eb('leased_until', 'is', null), eb('leased_until', '<=', at)]));
      const lease = (q: typeof db) => {
        let batch = due(q).orderBy('not_before').orderBy('id').limit(limit);
        if (flavour.rowLocks) batch = batch.forUpdate().skipLocked();
        // One token per lease call: with the entry id it names this lease alone (see renewOutboxLease).
        return q
          .updateTable('outbox')
          .set({ leased_until: until, lease_token: randomUUID() })
          .where('id', 'in', batch)
          .returningAll()
          .execute();
      };
      // SQLite: most polls find nothing due; one read answers that without BEGIN IMMEDIATE, an empty UPDATE and
      // COMMIT (three statements and the write lock, for nothing). What the read saw due is leased in the
      // transaction, which selects again under the write lock: a row another leaser took meanwhile is not taken twice.
      if (!flavour.rowLocks && (await statements.outboxDue.run(db, at)).rows.length === 0) return [];
      const rows = await lease(db);
      rows.sort((a, b) =>
        a.not_before < b.not_before ? -1 : a.not_before > b.not_before ? 1 : Number(a.id) - Number(b.id),
      );
      return rows.map(outboxFromRow);
    },

    renewOutboxLease: (id, leaseToken, leaseMs, now) =>
      unsynced(async (runner) => {
        const result = await runner
          .updateTable('outbox')
          .set({ leased_until: toDbTime(new Date(now.getTime() + leaseMs)) })
          .where('id', '=', id)
          .where('lease_token', '=', leaseToken)
          .where('dead_at', 'is', null)
          .executeTakeFirst();
        return Number(result.numUpdatedRows) === 1;
      }),

    // The transaction's delete on the plain connection: one statement, atomic by itself.
    completeOutbox: (id, leaseToken) =>
      unsynced((runner) => sqlTransaction(runner).completeOutbox(id, leaseToken)),

    completeOutboxEntries: (entries) =>
      entries.length === 0
        ? Promise.resolve(new Set<number>())
        : unsynced((runner) => completeEntries(runner, entries)),

    async stats() {
      const count = async (
        table: 'outbox' | 'messages' | 'evidence',
        column: 'stage' | 'state' | 'event',
        dead?: boolean,
      ) => {
        // Typed loosely: the (table, column) pairs are fixed here, never from input.
        let query = db
          .selectFrom(table)
          .select([`${column} as key` as never, (eb) => eb.fn.countAll<number | string>().as('n')]);
        if (dead !== undefined) query = query.where('dead_at' as never, dead ? 'is not' : 'is', null);
        const rows = (await query.groupBy(column as never).execute()) as unknown as Array<{
          key: string;
          n: number | string;
        }>;
        return Object.fromEntries(rows.map((r) => [r.key, Number(r.n)]));
      };
      return {
        outboxByStage: await count('outbox', 'stage', false),
        deadLettersByStage: await count('outbox', 'stage', true),
        messagesByState: await count('messages', 'state'),
        evidenceByEvent: await count('evidence', 'event'),
      };
    },

    async claimPickupLink(linkId, messageId, at) {
      // The primary key decides: a second insert of the link id does nothing, and reports no row.
      const result = await db
        .insertInto('pickup_link_uses')
        .values({ link_id: linkId, message_id: messageId, used_at: toDbTime(at) })
        .onConflict((oc) => oc.column('link_id').doNothing())
        .executeTakeFirst();
      return Number(result.numInsertedOrUpdatedRows ?? 0) === 1;
    },

    async claimIdempotencyKey(claim) {
      const now = toDbTime(claim.now);
      await db.deleteFrom('idempotency_keys').where('expires_at', '<=', now).execute();
      // Two rounds at most: a row found stale is deleted (compare-and-set on its token), then claimed anew.
      for (let round = 0; round < 2; round++) {
        const token = randomUUID();
        const inserted = await db
          .insertInto('idempotency_keys')
          .values({
            account: claim.account,
            idem_key: claim.key,
            fingerprint: claim.fingerprint,
            claim_token: token,
            state: 'in-progress',
            response_status: null,
            response_headers: null,
            response_body: null,
            created_at: now,
            expires_at: toDbTime(claim.expiresAt),
          })
          .onConflict((oc) => oc.columns(['account', 'idem_key']).doNothing())
          .executeTakeFirst();
        if (Number(inserted.numInsertedOrUpdatedRows ?? 0) === 1) return { claimed: true, token };
        const row = await db
          .selectFrom('idempotency_keys')
          .selectAll()
          .where('account', '=', claim.account)
          .where('idem_key', '=', claim.key)
          .executeTakeFirst();
        if (!row) continue;
        if (row.state === 'done' && row.response_status !== null) {
          return {
            claimed: false,
            fingerprint: row.fingerprint,
            response: {
              status: row.response_status,
              headers: JSON.parse(row.response_headers ?? '{}') as Record<string, string>,
              body: row.response_body ?? '',
            },
          };
        }
        if (row.created_at > toDbTime(claim.staleBefore))
          return { claimed: false, fingerprint: row.fingerprint };
        await db
          .deleteFrom('idempotency_keys')
          .where('account', '=', claim.account)
          .where('idem_key', '=', claim.key)
          .where('claim_token', '=', row.claim_token)
          .where('state', '=', 'in-progress')
          .execute();
      }
      const row = await db
        .selectFrom('idempotency_keys')
        .select('fingerprint')
        .where('account', '=', claim.account)
        .where('idem_key', '=', claim.key)
        .executeTakeFirst();
      return { claimed: false, fingerprint: row?.fingerprint ?? '' };
    },

    async completeIdempotencyKey(account, key, token, response) {
      const result = await db
        .updateTable('idempotency_keys')
        .set({
          state: 'done',
          response_status: response.status,
          response_headers: JSON.stringify(response.headers),
          response_body: response.body,
        })
        .where('account', '=', account)
        .where('idem_key', '=', key)
        .where('claim_token', '=', token)
        .executeTakeFirst();
      return Number(result.numUpdatedRows) === 1;
    },

    async releaseIdempotencyKey(account, key, token) {
      await db
        .deleteFrom('idempotency_keys')
        .where('account', '=', account)
        .where('idem_key', '=', key)
        .where('claim_token', '=', token)
        .where('state', '=', 'in-progress')
        .execute();
    },

    async deadLetterOutbox(id, error, at, leaseToken) {
      let query = db
        .updateTable('outbox')
        .set((eb) => ({
          dead_at: toDbTime(at),
          attempts: eb('attempts', '+', 1),
          leased_until: null,
          lease_token: null,
          last_error: error,
        }))
        .where('id', '=', id);
      if (leaseToken !== undefined) query = query.where('lease_token', '=', leaseToken);
      return Number((await query.executeTakeFirst()).numUpdatedRows) === 1;
    },

    async listDeadLetters(filter = {}) {
      const rows = await db
        .selectFrom('outbox')
        .selectAll()
        .where('dead_at', 'is not', null)
        .orderBy('dead_at')
        .orderBy('id')
        .limit(filter.limit ?? defaultListLimit)
        .execute();
      return rows.map(deadLetterFromRow);
    },

    async replayDeadLetter(id, now) {
      // Compare-and-set on dead_at: two operators replaying at once make one live entry, not two runs.
      const result = await db
        .updateTable('outbox')
        .set({ dead_at: null, attempts: 0, not_before: toDbTime(now), leased_until: null })
        .where('id', '=', id)
        .where('dead_at', 'is not', null)
        .executeTakeFirst();
      return Number(result.numUpdatedRows) === 1;
    },

    async retryOutbox(id, retryAt, error, leaseToken) {
      let query = db
        .updateTable('outbox')
        .set((eb) => ({
          not_before: toDbTime(retryAt),
          attempts: eb('attempts', '+', 1),
          leased_until: null,
          lease_token: null,
          last_error: error,
        }))
        .where('id', '=', id);
      if (leaseToken !== undefined) query = query.where('lease_token', '=', leaseToken);
      return Number((await query.executeTakeFirst()).numUpdatedRows) === 1;
    },
  };
}

/** Store.completeOutboxEntries on `runner`: one DELETE, atomic by itself; the ids it removed. */
async function completeEntries(
  runner: Kysely<StoreDatabase>,
  entries: readonly { readonly id: number; readonly leaseToken?: string | undefined }[],
): Promise<Set<number>> {
  // Each entry by its id and, when given, the token of the lease that owns it.
  const rows = await runner
    .deleteFrom('outbox')
    .where((eb) =>
      eb.or(
        entries.map(({ id, leaseToken }) =>
          leaseToken === undefined
            ? eb('id', '=', id)
            : eb.and([eb('id', '=', id), eb('lease_token', '=', leaseToken)]),
        ),
      ),
    )
    .returning('id')
    .execute();
  return new Set(rows.map((row) => Number(row.id)));
}
