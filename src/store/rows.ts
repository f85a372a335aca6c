import type { Selectable } from 'kysely';
import {
  parseParticipantId,
  type EvidenceEvent,
  type MessageRole,
  type MessageState,
  type PayloadPart,
} from '../core/index.js';
import { fromDbTime, type EvidenceTable, type MessagesTable, type OutboxTable } from './schema.js';
import type { DeadLetter, EvidenceRecord, OutboxEntry, PipelineStage, StoredMessage } from './types.js';

/** Row ↔ domain mapping: the one place that knows column names and encodings. */

export function messageFromRow(row: Selectable<MessagesTable>): StoredMessage {
  return {
    id: row.id,
    ebmsMessageId: row.ebms_message_id,
    role: row.role as MessageRole,
    state: row.state as MessageState,
    sender: parseParticipantId(row.sender),
    recipient: parseParticipantId(row.recipient),
    ...(row.subject === null ? {} : { subject: row.subject }),
    parts: JSON.parse(row.parts) as PayloadPart[],
    submittedAt: fromDbTime(row.submitted_at),
    updatedAt: fromDbTime(row.updated_at),
    ...(row.peer === null ? {} : { peer: row.peer }),
    attempts: row.attempts,
    ...(row.last_error === null ? {} : { lastError: row.last_error }),
    ...(row.reference === null || row.reference === undefined ? {} : { reference: row.reference }),
  };
}

export function evidenceFromRow(row: Selectable<EvidenceTable>): EvidenceRecord {
  return {
    id: row.id,
    messageId: row.message_id,
    event: row.event as EvidenceEvent,
    eventTime: fromDbTime(row.event_time),
    xml: row.xml,
    sequence: row.sequence,
    issuedBy: row.issued_by,
  };
}

export function outboxFromRow(row: Selectable<OutboxTable>): OutboxEntry {
  return {
    id: Number(row.id),
    stage: row.stage as PipelineStage,
    messageId: row.message_id,
    data: JSON.parse(row.data) as Record<string, unknown>,
    createdAt: fromDbTime(row.created_at),
    attempts: row.attempts,
    ...(row.lease_token === null ? {} : { leaseToken: row.lease_token }),
    ...(row.leased_until === null ? {} : { leasedUntil: fromDbTime(row.leased_until) }),
  };
}

export function deadLetterFromRow(row: Selectable<OutboxTable>): DeadLetter {
  return {
    ...outboxFromRow(row),
    deadAt: fromDbTime(row.dead_at ?? row.created_at),
    ...(row.last_error === null ? {} : { lastError: row.last_error }),
  };
}

/** Parts as stored: only the PayloadPart fields, in a fixed order. */
export function partsToJson(parts: readonly PayloadPart[]): string {
  return JSON.stringify(
    parts.map((p) => ({
      partId: p.partId,
      contentType: p.contentType,
      ...(p.filename === undefined ? {} : { filename: p.filename }),
      sha256: p.sha256,
      size: p.size,
      ...(p.plaintextSha256 === undefined ? {} : { plaintextSha256: p.plaintextSha256 }),
      ...(p.plaintextSize === undefined ? {} : { plaintextSize: p.plaintextSize }),
      ...(p.originalContentType === undefined ? {} : { originalContentType: p.originalContentType }),
    })),
  );
}
