import { QerdsError } from '../core/index.js';

/**
 * The inbox paging cursor: the (submitted_at, id) of the last message of a page, base64url so that it
 * is one opaque query parameter. Opaque to clients: only the store reads it back.
 */
export function encodeInboxCursor(submittedAt: string, id: string): string {
  return Buffer.from(JSON.stringify([submittedAt, id]), 'utf8').toString('base64url');
}

/** A cursor that is not one of ours (edited, truncated): BAD_REQUEST, never a silently wrong page. */
export function decodeInboxCursor(cursor: string): { submittedAt: string; id: string } {
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    parsed = undefined;
  }
  if (
    !Array.isArray(parsed) ||
    parsed.length !== 2 ||
    typeof parsed[0] !== 'string' ||
    typeof parsed[1] !== 'string' ||
    Number.isNaN(Date.parse(parsed[0]))
  ) {
    throw new QerdsError('BAD_REQUEST', 'inbox cursor "after" is malformed');
  }
  return { submittedAt: parsed[0], id: parsed[1] };
}
