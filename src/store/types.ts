import type { Readable } from 'node:stream';
import type { EvidenceEvent, Message, MessageRole, MessageState, PayloadPart } from '../core/index.js';

/**
 * The store is the source of truth of an AP: messages, their payload blobs, evidence, and the outbox of
 * jobs to run. SQLite (embedded) and PostgreSQL implement it with one Kysely schema; both pass
 * test/store/store-conformance.ts.
 */

/** A message as stored: the domain Message plus what the store needs to route it. */
export interface StoredMessage extends Message {
  /** Endpoint / AP the message is relayed to (C2) or came from (C3), when known. */
  readonly peer?: string;
  /** Number of relay or delivery attempts so far. */
  readonly attempts: number;
  /** Last error code, when the last attempt failed. */
  readonly lastError?: string;
  /** The sender's own reference of its submission (its ERP's correlation id); C2 only, never relayed. */
  readonly reference?: string;
}

export interface NewMessage {
  readonly id: string;
  readonly ebmsMessageId: string;
  readonly role: MessageRole;
  readonly state: MessageState;
  readonly sender: Message['sender'];
  readonly recipient: Message['recipient'];
  readonly subject?: string;
  readonly parts: readonly PayloadPart[];
  readonly submittedAt: Date;
  readonly peer?: string;
  readonly reference?: string;
}

export interface EvidenceRecord {
  readonly id: string;
  readonly messageId: string;
  readonly event: EvidenceEvent;
  readonly eventTime: Date;
  /** The sealed EN 319 522-3 XML, exactly as signed (bytes matter: never re-serialise). */
  readonly xml: string;
  /** Order within the message's chain, 1-based, assigned by the store. */
  readonly sequence: number;
  readonly issuedBy: string;
}

/**
 * Pipeline stages. Each is a job kind with an idempotent handler. `mail-delivery`: C3 → C4 REM Dispatch by
 * mail; `mail-evidence`: C2 → C1 REM Receipt with one evidence; `evidence-webhook`: C2 → C1's ERP, one
 * evidence as signed JSON; `acceptance-expiry`: C3's
 * AcceptanceRejectionExpiry, an entry due at the end of the recipient's acceptance window.
 */
export const pipelineStages = [
  'relay',
  'deliver',
  'notify',
  'mail-delivery',
  'mail-evidence',
  'evidence-webhook',
  'acceptance-expiry',
] as const;
export type PipelineStage = (typeof pipelineStages)[number];

export interface OutboxEntry {
  readonly id: number;
  readonly stage: PipelineStage;
  readonly messageId: string;
  /** Small JSON-serialisable arguments; never payload bytes. */
  readonly data: Readonly<Record<string, unknown>>;
  readonly createdAt: Date;
  readonly attempts: number;
  /**
   * Owner token of the lease this entry was handed out under (set by leaseOutbox). Whoever settles or
   * renews the entry passes it back: a worker whose lease ran out and was taken by another cannot
   * complete, retry or dead-letter the entry under the new owner's feet.
   */
  readonly leaseToken?: string;
  /** When that lease runs out (as leased; renewals move it on in the store only). */
  readonly leasedUntil?: Date;
}

/** A page of a recipient's inbox, newest first; `next` is the cursor of the following page, if any. */
export interface InboxPage {
  readonly messages: StoredMessage[];
  readonly next?: string;
}

/** Filters of Store.listSent. */
export interface SentFilter {
  readonly sender: string;
  readonly states?: readonly MessageState[];
  readonly recipient?: string;
  readonly since?: Date;
  readonly until?: Date;
  readonly reference?: string;
  readonly limit?: number;
  readonly after?: string;
}

/** An outbox entry its stage gave up on (retry budget spent), kept until an operator replays it. */
export interface DeadLetter extends OutboxEntry {
  readonly deadAt: Date;
  /** Error code of the last attempt. */
  readonly lastError?: string;
}

/** A response kept under an Idempotency-Key, replayed as it was first sent. */
export interface IdempotentResponse {
  readonly status: number;
  readonly headers: Readonly<Record<string, string>>;
  readonly body: string;
}

/** What claimIdempotencyKey found: the key is this caller's now, or another request's (running or done). */
export type IdempotencyClaim =
  | { readonly claimed: true; readonly token: string }
  | { readonly claimed: false; readonly fingerprint: string; readonly response?: IdempotentResponse };

/** Operations that must commit together (state change + evidence + outbox). */
export interface StoreTransaction {
  /**
   * Returns the message as stored (what getMessage would read once committed). A second message with the
   * same id, or the same ebMS MessageId in the same role: QerdsError STORE_DUPLICATE.
   */
  insertMessage(message: NewMessage): Promise<StoredMessage>;
  /**
   * Compare-and-set: moves `id` from `from` to `to`; returns false (and changes nothing) when the
   * message is not in `from`. The state machine of core/message.ts is enforced.
   */
  transitionMessage(
    id: string,
    from: MessageState,
    to: MessageState,
    patch?: { lastError?: string; attempts?: number; peer?: string },
  ): Promise<boolean>;
  /**
   * Duplicate evidence id: STORE_DUPLICATE; unknown message: NOT_FOUND. With `previousId` (the id the
   * evidence names as the one before it; null: it is the first), the message's chain is checked under
   * the row lock that orders its writers: when another evidence was recorded since, STORE_CHAIN_MOVED
   * and nothing is written (the caller issues the evidence again, chained to the new head).
   */
  insertEvidence(
    evidence: Omit<EvidenceRecord, 'sequence'>,
    options?: { readonly previousId?: string | null },
  ): Promise<EvidenceRecord>;
  /**
   * Records `key` as a second identity of the received message `messageId` (Peppol: its SBDH sender and
   * InstanceIdentifier). A key already recorded: QerdsError STORE_DUPLICATE (the transaction is then rolled back
   * by its owner, as for a duplicate message).
   */
  insertReceptionKey(key: string, messageId: string): Promise<void>;
  /**
   * Store.completeOutbox in this transaction: the entry is removed only if the transaction commits, so that a job
   * step's writes and the end of its job are one commit (a crash between them cannot leave the step done and its
   * job still due, or the reverse). With `leaseToken`, only while that lease owns the entry (checked under the
   * entry's row lock: a concurrent re-lease waits for this transaction, or this one sees the new token); returns
   * whether an entry was removed. Leaves the rest of the transaction to the caller: a caller that must not
   * commit without the completion throws, and the transaction rolls back.
   */
  completeOutbox(id: number, leaseToken?: string): Promise<boolean>;
  /** Writes an outbox entry (with the transaction's others, once its work is done); the job runs only after the transaction commits. */
  enqueue(
    stage: PipelineStage,
    messageId: string,
    data?: Record<string, unknown>,
    options?: { notBefore?: Date },
  ): Promise<void>;
}

/** A peer AP's signed receipt of a relayed message (the one C2's RelayAcceptance binds by its SHA-256). */
export interface PeerReceipt {
  readonly messageId: string;
  /** SHA-256 (hex) of `xml` as UTF-8. */
  readonly sha256: string;
  /** The receipt (the SOAP envelope of the signal) as received. */
  readonly xml: string;
  readonly receivedAt: Date;
}

/** What a put stored. */
export interface StoredBlob {
  readonly sha256: string;
  readonly size: number;
  /**
   * Where the bytes are until a message names them. false: a file, on disk (fsynced) when the put resolved. true (a
   * small blob of Store.blobs): held in memory by this store, visible to this store alone, and written to the
   * database only by StoreTransaction.insertMessage of a message naming it, in that transaction; a put no message
   * follows is not durable, and the orphan sweep drops it after its grace period.
   */
  readonly inline: boolean;
  /**
   * Undoes this put when the request that made it is refused before anything references the blob: removes
   * the file only if this put created it and no later put of the same content replaced it since (that
   * one's owner may reference it); a small blob held in memory is let go once every put of it is undone.
   * Absent when the content was already stored (nothing of ours to undo).
   */
  readonly discard?: () => Promise<void>;
}

/** Options of an orphan sweep (BlobStore.sweep). */
export interface BlobSweepOptions {
  /** Only files last written before this time are candidates: a blob being written or just put is never one. */
  readonly olderThan: Date;
  /** Which of these keys something (a message) references; called with batches of candidate keys. */
  readonly referenced: (keys: ReadonlySet<string>) => Promise<ReadonlySet<string>>;
}

export interface BlobStore {
  /**
   * Streams bytes to storage while hashing; returns the SHA-256 (hex) key and size. Enforces maxBytes mid-stream.
   * Store.blobs: a small blob is only held until the transaction of a message naming it (StoredBlob.inline).
   */
  put(source: Readable | Buffer, options?: { maxBytes?: number }): Promise<StoredBlob>;
  /**
   * The bytes of a blob. A malformed key throws NOT_FOUND at once; a blob that is not there may instead be reported
   * as the stream's error NOT_FOUND (Store.blobs looks in the database first): call `has` to answer 404 up front.
   */
  get(sha256: string): Readable;
  has(sha256: string): Promise<boolean>;
  /**
   * Removes blobs nothing references and temporary files a crash left, both older than `olderThan`;
   * returns how many files (and small blobs held in memory, Store.blobs) it removed. Optional: a store without
   * it keeps everything.
   */
  sweep?(options: BlobSweepOptions): Promise<{ readonly removed: number }>;
}

export interface Store {
  /** Runs pending migrations; safe to call on every start. */
  migrate(): Promise<void>;
  close(): Promise<void>;
  readonly blobs: BlobStore;
  /**
   * Runs `work` in one transaction: committed when it resolves, rolled back when it throws. Inside
   * `work` use only `tx`: SQLite has a single connection, so a call on the store itself (or a nested
   * transaction) would wait for the open transaction forever.
   */
  transaction<T>(work: (tx: StoreTransaction) => Promise<T>): Promise<T>;
  /**
   * StoreTransaction.transitionMessage on its own, committed at once: one statement, for a state change
   * that has nothing to commit with it (no BEGIN/COMMIT round trips around it).
   */
  transitionMessage(
    id: string,
    from: MessageState,
    to: MessageState,
    patch?: { lastError?: string; attempts?: number; peer?: string },
  ): Promise<boolean>;
  getMessage(id: string): Promise<StoredMessage | undefined>;
  findMessageByEbmsId(ebmsMessageId: string, role: MessageRole): Promise<StoredMessage | undefined>;
  listMessages(filter?: { state?: MessageState; limit?: number }): Promise<StoredMessage[]>;
  /**
   * The messages something happened to in `since` ≤ t < `until`: an evidence whose event time, or a peer receipt
   * received, falls in the period; oldest submission first, at most `limit` (default 1000). Read on the time indexes
   * of migration 0009, not by scanning every message (the Peppol reports of a month).
   */
  listMessagesActiveBetween(range: { since: Date; until: Date; limit?: number }): Promise<StoredMessage[]>;
  /**
   * The messages received for `recipient` (`scheme:value`, role recipient-ap) in one of `states`, newest
   * first, `limit` at a time (default 100); `after` is the `next` cursor of the previous page (keyset
   * paging on an index: cost independent of the page's depth and of other recipients' traffic). A
   * malformed cursor: BAD_REQUEST.
   */
  listInbox(filter: {
    recipient: string;
    states: readonly MessageState[];
    limit?: number;
    after?: string;
  }): Promise<InboxPage>;
  /**
   * The messages `sender` (`scheme:value`) submitted here (role sender-ap), newest first, keyset paged as
   * listInbox; narrowed to `states`, a `recipient`, submission times `since` ≤ t < `until`, or the sender's
   * own `reference`.
   */
  listSent(filter: SentFilter): Promise<InboxPage>;
  listEvidence(messageId: string): Promise<EvidenceRecord[]>;
  /** The received message whose reception key (StoreTransaction.insertReceptionKey) is `key`. */
  findMessageByReceptionKey(key: string): Promise<StoredMessage | undefined>;
  /**
   * Keeps a peer AP's signed receipt of a message as received. Idempotent: the same receipt (same SHA-256) for the
   * same message again changes nothing.
   */
  insertPeerReceipt(receipt: PeerReceipt): Promise<void>;
  /** The receipts kept for a message, oldest first. */
  listPeerReceipts(messageId: string): Promise<PeerReceipt[]>;
  /**
   * The head of a message's chain (its evidence with the highest sequence), id and sequence only: what the
   * next evidence names as its previous one. Undefined when the message has none.
   */
  evidenceHead(messageId: string): Promise<{ readonly id: string; readonly sequence: number } | undefined>;
  /** The last evidence of a message's chain, whole (listEvidence(messageId).at(-1) without reading the rest). */
  latestEvidence(messageId: string): Promise<EvidenceRecord | undefined>;
  getEvidence(id: string): Promise<EvidenceRecord | undefined>;
  /**
   * Evidence in id order after `afterId` (exclusive), up to `limit` (default 100): the archive renewal
   * sweep pages through every evidence with it.
   */
  scanEvidence(filter?: { afterId?: string; limit?: number }): Promise<EvidenceRecord[]>;
  /**
   * Replaces the XML of an evidence by an augmented version of the same seal (B-LTA renewal adds only
   * unsigned properties); the replaced XML is kept as a version (listEvidenceVersions). Unknown id: NOT_FOUND.
   */
  replaceEvidenceXml(id: string, xml: string, now: Date): Promise<void>;
  /** The superseded XML of an evidence, oldest first (the first is the XML as first sealed). */
  listEvidenceVersions(
    id: string,
  ): Promise<{ readonly version: number; readonly xml: string; readonly replacedAt: Date }[]>;
  /**
   * Deletes an evidence and its versions, only once its retention period (eventTime + retention years
   * of the store) is over: before, EVIDENCE_RETENTION_ACTIVE (threat: an operator or a bug destroying
   * proof a party may still need). Unknown id: NOT_FOUND.
   */
  deleteEvidence(id: string, now: Date): Promise<void>;
  /**
   * Records the use of a one-time pickup link: true the first time `linkId` is claimed, false for every
   * later claim (atomic: two concurrent claims of one link cannot both win).
   */
  claimPickupLink(linkId: string, messageId: string, at: Date): Promise<boolean>;
  /**
   * Claims an Idempotency-Key of `account` for a request whose identity is `fingerprint` (atomic across
   * every process sharing the store: of two concurrent claims one wins). A key past its `expiresAt`, or a
   * claim still in progress that began before `staleBefore` (its process died), is taken over. Otherwise
   * the existing key's fingerprint and, once completed, its response. Expired keys of every account are
   * purged on the way.
   */
  claimIdempotencyKey(claim: {
    account: string;
    key: string;
    fingerprint: string;
    now: Date;
    expiresAt: Date;
    staleBefore: Date;
  }): Promise<IdempotencyClaim>;
  /** Stores the response of a claimed key (`token` from the claim); false when the claim was taken over. */
  completeIdempotencyKey(
    account: string,
    key: string,
    token: string,
    response: IdempotentResponse,
  ): Promise<boolean>;
  /** Drops a claim that produced no response to keep (the request failed on the server): a retry runs again. */
  releaseIdempotencyKey(account: string, key: string, token: string): Promise<void>;
  /**
   * Leases up to `limit` due outbox entries (notBefore ≤ now, not leased or lease expired) for
   * `leaseMs`; a crashed worker's lease runs out and the entry is handed out again.
   */
  leaseOutbox(limit: number, leaseMs: number, now: Date): Promise<OutboxEntry[]>;
  /**
   * Extends the lease of an entry still owned under `leaseToken` to now + `leaseMs` (a long job keeps
   * its entry while it runs); false when the lease is no longer this owner's (settled, or taken over).
   */
  renewOutboxLease(id: number, leaseToken: string, leaseMs: number, now: Date): Promise<boolean>;
  /**
   * The job's effect is committed: remove the entry. With `leaseToken`, only while that lease owns it;
   * returns whether an entry was removed. The removal may return before it is on disk (the SQLite store does not
   * wait for an fsync here): lost with the power, the job runs again, as after a crash just before this call.
   */
  completeOutbox(id: number, leaseToken?: string): Promise<boolean>;
  /**
   * completeOutbox of several entries in one statement (one commit): the jobs of a step that wrote nothing, done
   * together (notify jobs whose evidences went back in one AS4 exchange). Each only while its `leaseToken` owns it;
   * returns the ids removed. Like completeOutbox, it may return before the removal is on disk.
   */
  completeOutboxEntries(
    entries: readonly { readonly id: number; readonly leaseToken?: string }[],
  ): Promise<ReadonlySet<number>>;
  /** The job failed and should run again at `retryAt` (attempts + 1). `leaseToken`: as completeOutbox. */
  retryOutbox(id: number, retryAt: Date, error: string, leaseToken?: string): Promise<boolean>;
  /**
   * The stage gave up on the job: keep the entry as a dead letter (attempts + 1, `error` recorded),
   * never leased again until replayed. `leaseToken`: as completeOutbox.
   */
  deadLetterOutbox(id: number, error: string, at: Date, leaseToken?: string): Promise<boolean>;
  /** Dead letters, oldest first, up to `limit` (default 100). */
  listDeadLetters(filter?: { limit?: number }): Promise<DeadLetter[]>;
  /**
   * Makes a dead letter live again with its attempts reset to 0, due at `now`; returns false (and
   * changes nothing) when `id` is not a dead letter.
   */
  replayDeadLetter(id: number, now: Date): Promise<boolean>;
  /** Counts for monitoring (metrics): outbox entries by stage, messages by state, evidence by event. */
  stats(): Promise<StoreStats>;
  /**
   * Removes payload blobs that no message references (a crash between a blob's put and its message's
   * insert, a refused upload whose discard did not run) and temporary files, all last written more than
   * `graceMs` ago (a blob being written or awaiting its message is never removed); small blobs held in memory
   * since a put that long ago are let go. Returns the count. A small blob a message names is in that message's
   * `blobs` row, which lives as long as the message.
   */
  sweepOrphanBlobs(options: { readonly graceMs: number }): Promise<{ readonly removed: number }>;
}

export interface StoreStats {
  /** Live entries only: dead letters are counted in deadLettersByStage. */
  readonly outboxByStage: Readonly<Record<string, number>>;
  readonly deadLettersByStage: Readonly<Record<string, number>>;
  readonly messagesByState: Readonly<Record<string, number>>;
  readonly evidenceByEvent: Readonly<Record<string, number>>;
}
