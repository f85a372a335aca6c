import type { Generated } from 'kysely';

/**
 * The one Kysely schema of the store, shared by SQLite and PostgreSQL. Timestamps are ISO-8601 UTC text
 * with milliseconds (`2025-01-31T12:00:00.000Z`): identical on both engines, readable in a SQL shell, and
 * ordered correctly by plain text comparison because every value has the same fixed shape.
 */
export interface StoreDatabase {
  messages: MessagesTable;
  evidence: EvidenceTable;
  blobs: BlobsTable;
  outbox: OutboxTable;
  evidence_versions: EvidenceVersionsTable;
  pickup_link_uses: PickupLinkUsesTable;
  idempotency_keys: IdempotencyKeysTable;
  peer_receipts: PeerReceiptsTable;
  reception_keys: ReceptionKeysTable;
}

export interface MessagesTable {
  id: string;
  ebms_message_id: string;
  role: string;
  state: string;
  /** `scheme:value` (core formatParticipantId). */
  sender: string;
  recipient: string;
  subject: string | null;
  /** JSON array of PayloadPart. */
  parts: string;
  peer: string | null;
  attempts: number;
  last_error: string | null;
  submitted_at: string;
  updated_at: string;
  /** The sender's own reference of the submission (migration 0007). */
  reference: string | null;
}

export interface EvidenceTable {
  id: string;
  message_id: string;
  event: string;
  event_time: string;
  sequence: number;
  xml: string;
  issued_by: string;
}

/** Superseded XML of an evidence (migration 0003): version 1 is the XML as first sealed. */
export interface EvidenceVersionsTable {
  evidence_id: string;
  version: number;
  xml: string;
  replaced_at: string;
}

/** Used one-time pickup links (migration 0004). */
export interface PickupLinkUsesTable {
  link_id: string;
  message_id: string;
  used_at: string;
}

/** Idempotency-Key of REST submissions (migration 0006). */
export interface IdempotencyKeysTable {
  /** The authenticated participant (`scheme:value`): keys are scoped per account. */
  account: string;
  idem_key: string;
  /** SHA-256 (hex) of the request's identity (metadata and part digests). */
  fingerprint: string;
  /** Owner of the claim: only it completes or releases the row. */
  claim_token: string;
  /** `in-progress` or `done`. */
  state: string;
  response_status: number | null;
  /** JSON object of the response headers to replay. */
  response_headers: string | null;
  response_body: string | null;
  created_at: string;
  expires_at: string;
}

/** A peer AP's signed receipt of a relayed message, as received (migration 0008). */
export interface PeerReceiptsTable {
  message_id: string;
  /** SHA-256 (hex) of the receipt's UTF-8 bytes: what C2's RelayAcceptance names. */
  sha256: string;
  xml: string;
  received_at: string;
}

/** A received message's second identity beside its ebMS MessageId (migration 0008), e.g. Peppol's SBDH instance. */
export interface ReceptionKeysTable {
  reception_key: string;
  message_id: string;
  created_at: string;
}

export interface BlobsTable {
  sha256: string;
  /** bigint: PostgreSQL hands it back as a string, SQLite as a number. */
  size: number | string;
  created_at: string;
  /**
   * The bytes of a small blob, held here (migration 0010); NULL: the blob is a file of the blob directory. Written
   * with the row, in the transaction of the first message that names the blob, never changed after.
   */
  content: Buffer | null;
}

export interface OutboxTable {
  id: Generated<number>;
  stage: string;
  message_id: string;
  /** JSON object. */
  data: string;
  created_at: string;
  not_before: string;
  attempts: number;
  leased_until: string | null;
  last_error: string | null;
  /** When the entry became a dead letter (its stage gave up); NULL while live. Migration 0002. */
  dead_at: string | null;
  /** Owner of the current lease (random, set by leaseOutbox); settling is compare-and-set on it. Migration 0004. */
  lease_token: string | null;
}

/** The one timestamp format of the store. */
export function toDbTime(date: Date): string {
  return date.toISOString();
}

export function fromDbTime(text: string): Date {
  return new Date(text);
}
