import {
  formatParticipantId,
  isQerdsError,
  parseParticipantId,
  QerdsError,
  type EvidenceEvent,
  type QerdsErrorCode,
  type MessageState,
} from '../core/index.js';
import type { StoredMessage, StoreTransaction } from '../store/types.js';
import { enqueueSenderCopies } from './sender-copies.js';
import { recipientEntry } from './stage-support.js';
import type { EvidenceCheck, PipelineContext } from './ports.js';
import { certificateFrom } from '../pki/parse-cache.js';
import { sealPinOf } from '../directory/index.js';

/** Where a message stands at C2 once the recipient's AP reports an event about it. */
const stateAfter: Partial<Record<EvidenceEvent, MessageState>> = {
  ContentHandover: 'delivered',
  RelayRejection: 'failed',
  ContentHandoverFailure: 'failed',
  // The recipient's AP ended the message without handing the content over.
  NotificationForAcceptanceFailure: 'failed',
  ConsignmentRejection: 'failed',
  AcceptanceRejectionExpiry: 'failed',
  ConsignmentNotificationFailure: 'failed',
};

/** A returned evidence that passed every check, with the message it is about. */
export interface CheckedReturnedEvidence {
  readonly xml: string;
  readonly check: EvidenceCheck & { readonly valid: true };
  readonly message: StoredMessage;
}

/**
 * C2 receives an evidence that C3 issued about one of our messages. It is kept only when its seal
 * verifies against our trust store, when it was sealed by the same AP that signed the AS4 message carrying
 * it (`carrierFingerprint`: the same certificate, or the AS4 signing certificate the directory pins beside that
 * AP's e-seal), and when it names the message's own sender and recipient (threat: a peer, or
 * anyone holding a trusted certificate, planting forged proof in another sender's record). Duplicates
 * (same evidence id) are ignored. RelayAcceptance moves a message still `relaying` (SMTP relay binding) to
 * `relayed`; ContentHandover moves the message to `delivered`; RelayRejection and
 * ContentHandoverFailure (and the C3 events that end a message unhanded: NotificationForAcceptanceFailure,
 * ConsignmentRejection, AcceptanceRejectionExpiry, ConsignmentNotificationFailure) to `failed`.
 */
export async function acceptReturnedEvidence(
  ctx: PipelineContext,
  xml: string,
  carrierFingerprint?: string,
): Promise<{ duplicate: boolean }> {
  return recordReturnedEvidence(ctx, await checkReturnedEvidence(ctx, xml, carrierFingerprint));
}

/**
 * Several evidences that arrived in one message: all are checked before any is kept, so that the message is
 * accepted whole or refused whole (the sender's AP then sends each again on its own). They are kept in one
 * transaction (recordGroup); one already stored, or a message that moved on meanwhile, has them kept one by one.
 */
export async function acceptReturnedEvidenceGroup(
  ctx: PipelineContext,
  xmls: readonly string[],
  carrierFingerprint: string,
  /** A further check on each evidence once it passed the others (e.g. the TLS client is its recipient's AP). */
  alsoCheck?: (checked: CheckedReturnedEvidence) => Promise<void>,
): Promise<void> {
  const checked: CheckedReturnedEvidence[] = [];
  for (const xml of xmls) {
    const one = await checkReturnedEvidence(ctx, xml, carrierFingerprint);
    await alsoCheck?.(one);
    checked.push(one);
  }
  if (checked.length > 1 && (await recordGroup(ctx, checked))) return;
  const recorded = new Set<string>();
  for (const one of checked) {
    // A second evidence about the same message sees the state the first one left.
    const message = recorded.has(one.message.id)
      ? ((await ctx.store.getMessage(one.message.id)) ?? one.message)
      : one.message;
    await recordReturnedEvidence(ctx, { ...one, message });
    recorded.add(one.message.id);
  }
}

/** The checks of acceptReturnedEvidence, without keeping anything. */
export async function checkReturnedEvidence(
  ctx: PipelineContext,
  xml: string,
  carrierFingerprint?: string,
): Promise<CheckedReturnedEvidence> {
  const first = await ctx.evidenceVerifier.check(xml);
  // A seal certificate without organizationIdentifier: bound only by the directory's pin (see issuerPinsFor).
  const check = first.issuerUnbound ? await checkWithDirectoryPin(ctx, xml, first) : first;
  const refuse = (code: QerdsErrorCode, reason: string) =>
    new QerdsError(code, `returned evidence rejected: ${reason}`, {
      details: { ebmsCode: 'EBMS:0004', retryable: false, evidenceId: check.id },
    });
  // The verifier also refuses a seal certificate that is no e-seal, and an issuer the seal contradicts.
  if (!check.valid) throw refuse('PIPELINE_EVIDENCE_INVALID', check.reason ?? 'invalid');
  if (
    carrierFingerprint !== undefined &&
    check.sealFingerprint !== carrierFingerprint &&
    !(await carriedByItsSealer(ctx, check, carrierFingerprint))
  ) {
    throw refuse('PIPELINE_EVIDENCE_INVALID', 'sealed by another certificate than the AP that sent it');
  }
  const message = await ctx.store.findMessageByEbmsId(check.messageId, 'sender-ap');
  // One answer for an unknown message and another pair's message: the peer must not learn which ids exist here.
  if (
    !message ||
    check.sender !== formatParticipantId(message.sender) ||
    check.recipient !== formatParticipantId(message.recipient)
  ) {
    throw refuse(
      'PIPELINE_UNKNOWN_MESSAGE',
      `no message ${check.messageId} from ${check.sender} to ${check.recipient}`,
    );
  }
  await requireIssuerSeal(ctx, check, message, refuse, carrierFingerprint);
  return { xml, check: check as CheckedReturnedEvidence['check'], message };
}

/**
 * The carrier was signed by another key than the seal: allowed only for an AP that the directory pins with both
 * (`apCertificatePem`, its AS4 signing certificate, signed the carrier; `apSealCertificatePem` sealed the
 * evidence), in the entry of the recipient the evidence names (requireIssuerSeal checks that it is the message's).
 */
async function carriedByItsSealer(
  ctx: PipelineContext,
  check: EvidenceCheck,
  carrierFingerprint: string,
): Promise<boolean> {
  if (!check.recipient) return false;
  let entry;
  try {
    entry = await ctx.directory.lookup(parseParticipantId(check.recipient));
  } catch {
    return false;
  }
  if (!entry?.apCertificatePem) return false;
  if (!entry.apSealCertificatePem) return sealJudgedByTrust(entry, check, carrierFingerprint);
  return (
    certificateFrom(entry.apSealCertificatePem).fingerprint256 === check.sealFingerprint &&
    certificateFrom(entry.apCertificatePem).fingerprint256 === carrierFingerprint
  );
}

/**
 * An SMP answer names one certificate per endpoint, the AP's AS4 (Peppol AP) certificate, and no e-seal: a qerds-ap
 * found by SMP whose QSealC is apart from its AP certificate cannot have its seal pinned. Its evidence is then taken
 * when the carrier is the AP certificate the SMP answer names (the directory authenticated the AP) and the seal
 * passed the verifier with the issuer bound by the seal certificate's own organizationIdentifier (the QERDS trust of
 * `pki.trust` judged the seal: a trusted e-seal of the issuer the evidence names). A static entry pins what it
 * means to pin, and is never relaxed so.
 */
function sealJudgedByTrust(
  entry: { readonly apCertificatePem?: string; readonly source?: string },
  check: EvidenceCheck,
  carrierFingerprint: string | undefined,
): boolean {
  return (
    entry.source !== undefined &&
    entry.source !== 'static' &&
    entry.apCertificatePem !== undefined &&
    carrierFingerprint !== undefined &&
    certificateFrom(entry.apCertificatePem).fingerprint256 === carrierFingerprint &&
    check.issuerBinding === 'organizationIdentifier'
  );
}

/**
 * Whose seal an evidence about `message` may carry, whatever the transport that brought it (threat: anyone with a
 * certificate under our anchors, or the sender's own AP, forging the recipient AP's proof of delivery):
 * - an evidence naming this AP as issuer: our own e-seal only;
 * - any other: the AP certificate the directory pins for the AP serving the message's recipient, and never our
 *   own seal. When the entry pins none, only with `peerSeals.unpinnedPeers` (the seal is then still an e-seal,
 *   as the verifier checked, and the AS4/REM carrier's signer); otherwise PIPELINE_EVIDENCE_SEAL_NOT_PINNED.
 */
async function requireIssuerSeal(
  ctx: PipelineContext,
  check: EvidenceCheck,
  message: StoredMessage,
  refuse: (code: QerdsErrorCode, reason: string) => QerdsError,
  carrierFingerprint?: string,
): Promise<void> {
  const own = ctx.peerSeals?.ownSealFingerprint;
  const seal = check.sealFingerprint;
  if (check.issuerId === ctx.self.id) {
    if (own === undefined || seal !== own)
      throw refuse(
        'PIPELINE_EVIDENCE_SEAL_MISMATCH',
        `it names this AP (${ctx.self.id}) as issuer but is not sealed with its e-seal`,
      );
    return;
  }
  if (own !== undefined && seal === own)
    throw refuse(
      'PIPELINE_EVIDENCE_SEAL_MISMATCH',
      `it names ${check.issuerId} as issuer but is sealed with this AP's own e-seal`,
    );
  const entry = await recipientEntry(ctx, message.recipient, message.parts);
  // The e-seal the entry pins (apSealCertificatePem when the AP signs AS4 with another key).
  const pinned = sealPinOf(entry);
  if (pinned) {
    if (
      certificateFrom(pinned).fingerprint256 !== seal &&
      !(entry && !entry.apSealCertificatePem && sealJudgedByTrust(entry, check, carrierFingerprint))
    ) {
      throw refuse(
        'PIPELINE_EVIDENCE_SEAL_MISMATCH',
        `it is not sealed by the access point the directory names for ${formatParticipantId(message.recipient)}`,
      );
    }
    // The directory names the AP's id too: the evidence must name it (whatever bound the issuer in the verifier).
    if (entry?.apId !== undefined && check.issuerId !== entry.apId) {
      throw refuse(
        'PIPELINE_EVIDENCE_SEAL_MISMATCH',
        `it names ${check.issuerId} as issuer, but the directory names ${entry.apId} as the access point of ${formatParticipantId(message.recipient)}`,
      );
    }
    return;
  }
  if (!ctx.peerSeals?.unpinnedPeers) {
    throw refuse(
      'PIPELINE_EVIDENCE_SEAL_NOT_PINNED',
      `the directory pins no AP certificate for ${formatParticipantId(message.recipient)} (pki.unpinnedPeers is off)`,
    );
  }
}

/**
 * The documented relaxation for peers whose seal certificate has no organizationIdentifier (README "Security"): the
 * verifier cannot bind the issuer an evidence names to such a seal from the file alone, but C2 can when its directory
 * pins, for the AP serving the message's recipient, both the seal certificate (exact match) and the AP's id
 * (`apId`). The evidence is then verified again with that pin, and is valid only when the pinned certificate sealed
 * it and it names the pinned id (binding `directory-pin`). Without such a pin the first verdict stands
 * (INDETERMINATE, refused). The message is found from the evidence read from the signed document; which message it
 * is about is checked again afterwards (checkReturnedEvidence), as for every evidence.
 */
async function checkWithDirectoryPin(
  ctx: PipelineContext,
  xml: string,
  first: EvidenceCheck,
): Promise<EvidenceCheck> {
  if (first.messageId === '') return first;
  const message = await ctx.store.findMessageByEbmsId(first.messageId, 'sender-ap');
  if (!message) return first;
  const entry = await recipientEntry(ctx, message.recipient, message.parts);
  const sealPin = sealPinOf(entry);
  if (!sealPin || entry?.apId === undefined) {
    return {
      ...first,
      reason: `${first.reason ?? 'INDETERMINATE'}; the directory entry of ${formatParticipantId(message.recipient)} pins no seal certificate with the AP's id (apSealCertificate or apCertificate, + apId) that would bind it`,
    };
  }
  const issuerPins = [{ issuerId: entry.apId, fingerprint256: certificateFrom(sealPin).fingerprint256 }];
  return ctx.evidenceVerifier.check(xml, { issuerPins });
}

/**
 * The writes that keep one returned evidence, in `tx`: the evidence, the state change it reports on a message in
 * `state`, and the sender's copies. A duplicate (same evidence id: C3 sent it again after a lost receipt) throws
 * STORE_DUPLICATE. The message's state afterwards (undefined: a state change it reports lost its compare-and-set,
 * another writer moved the message first), and whether copies were enqueued.
 */
async function keepInTransaction(
  ctx: PipelineContext,
  tx: StoreTransaction,
  { xml, check, message }: CheckedReturnedEvidence,
  state: MessageState,
): Promise<{ state: MessageState | undefined; copied: boolean }> {
  await tx.insertEvidence({
    id: check.id,
    messageId: message.id,
    event: check.event,
    eventTime: check.eventTime,
    xml,
    issuedBy: check.issuerId,
  });
  const next = stateAfter[check.event];
  let after: MessageState | undefined = state;
  if (next && (state === 'relayed' || state === 'relaying')) {
    after = (await tx.transitionMessage(message.id, state, next)) ? next : undefined;
  } else if (check.event === 'RelayAcceptance' && state === 'relaying') {
    // SMTP relay binding: no signed receipt, C3's RelayAcceptance is what proves the relay (AS4: the receipt did).
    after = (await tx.transitionMessage(message.id, 'relaying', 'relayed')) ? 'relayed' : undefined;
  }
  const copied = await enqueueSenderCopies(ctx, tx, message.sender, message.id, check.id);
  return { state: after, copied };
}

async function recordReturnedEvidence(
  ctx: PipelineContext,
  one: CheckedReturnedEvidence,
): Promise<{ duplicate: boolean }> {
  let copied: boolean;
  try {
    // A duplicate fails here and rolls back whole; a state change that lost its race is left to the other writer.
    copied = await ctx.store.transaction(
      async (tx) => (await keepInTransaction(ctx, tx, one, one.message.state)).copied,
    );
  } catch (error) {
    if (isQerdsError(error, 'STORE_DUPLICATE') && (await ctx.store.getEvidence(one.check.id)))
      return { duplicate: true };
    throw error;
  }
  if (copied) ctx.poke();
  logKept(ctx, one);
  return { duplicate: false };
}

/** Thrown inside recordGroup's transaction to roll it back and keep the evidences one by one instead. */
const notWhole = new Error('the group cannot be kept in one transaction');

/**
 * Keeps the evidences of one received message in one transaction: one commit for the group instead of one per
 * evidence. In message id order (two groups about the same messages lock their rows in the same order, so they
 * cannot deadlock on PostgreSQL), each message's evidences in the order received, each seeing the state the one
 * before left. False, with nothing kept, when the group cannot be kept whole as one: one of them is stored already
 * (a duplicate is skipped, not an error) or a message moved on meanwhile (its later evidences must see the state
 * another writer left); the caller then keeps them one by one, as each alone would be.
 */
async function recordGroup(
  ctx: PipelineContext,
  checked: readonly CheckedReturnedEvidence[],
): Promise<boolean> {
  const ordered = [...checked].sort((a, b) =>
    a.message.id < b.message.id ? -1 : a.message.id > b.message.id ? 1 : 0,
  );
  let copied = false;
  try {
    await ctx.store.transaction(async (tx) => {
      const states = new Map<string, MessageState>();
      for (const one of ordered) {
        const kept = await keepInTransaction(ctx, tx, one, states.get(one.message.id) ?? one.message.state);
        if (kept.state === undefined) throw notWhole;
        states.set(one.message.id, kept.state);
        if (kept.copied) copied = true;
      }
    });
  } catch (error) {
    if (error === notWhole || isQerdsError(error, 'STORE_DUPLICATE')) return false;
    throw error;
  }
  if (copied) ctx.poke();
  for (const one of checked) logKept(ctx, one);
  return true;
}

function logKept(ctx: PipelineContext, { check, message }: CheckedReturnedEvidence): void {
  ctx.log.info(
    { messageId: message.id, evidenceId: check.id, event: check.event },
    'evidence returned by the recipient AP',
  );
}
