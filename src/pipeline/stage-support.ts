import type { Readable } from 'node:stream';
import type { Logger } from 'pino';
import {
  isQerdsError,
  QerdsError,
  type MessageState,
  type ParticipantId,
  type PayloadPart,
} from '../core/index.js';
import type { DirectoryEntry } from '../directory/index.js';
import type { Store, StoredMessage, StoreTransaction } from '../store/types.js';
import { enqueueSenderCopies } from './sender-copies.js';
import type { EvidenceRequest, IssuedEvidence, OutgoingPart, PipelineContext, RelayPart } from './ports.js';

/**
 * The directory entry of a message's recipient for the service its parts are (`ctx.serviceOf`: for Peppol, the
 * SMP registration of the UBL document's type and process), so that submission, relay and the check of returned
 * evidence all ask about the same endpoint.
 */
export async function recipientEntry(
  ctx: PipelineContext,
  recipient: ParticipantId,
  parts: readonly PayloadPart[],
): Promise<DirectoryEntry | undefined> {
  const service = ctx.serviceOf ? await ctx.serviceOf(parts) : undefined;
  return ctx.directory.lookup(recipient, service);
}

/** Read a message's parts from the blob store (whole parts: the thin AS4 client takes buffers). */
export async function readParts(store: Store, parts: readonly PayloadPart[]): Promise<OutgoingPart[]> {
  return (await partsFromStore(store, parts, Number.POSITIVE_INFINITY)) as OutgoingPart[];
}

/** Parts at or below this size are read into memory for the relay; larger ones stream from the blob store. */
const RELAY_IN_MEMORY_BYTES = 1_048_576;

/** A message's parts for the AP-to-AP hop: small ones read into memory, large ones as streams from the blob store. */
export function readRelayParts(store: Store, parts: readonly PayloadPart[]): Promise<RelayPart[]> {
  return partsFromStore(store, parts, RELAY_IN_MEMORY_BYTES);
}

function partsFromStore(
  store: Store,
  parts: readonly PayloadPart[],
  inMemoryMaxBytes: number,
): Promise<RelayPart[]> {
  return Promise.all(
    parts.map(async (part) => ({
      partId: part.partId,
      contentType: part.contentType,
      filename: part.filename,
      // The plaintext's digest and size stay at C2: they would let C3 confirm a guessed plaintext.
      ...(part.originalContentType === undefined ? {} : { originalContentType: part.originalContentType }),
      body:
        part.size <= inMemoryMaxBytes
          ? await streamToBuffer(store.blobs.get(part.sha256))
          : { size: part.size, open: () => store.blobs.get(part.sha256) },
    })),
  );
}

export async function streamToBuffer(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

/**
 * The logger for lines about message `messageId`. A stage's job logger is already bound to its message
 * (registerWorkers in access-point/queue-binding.ts) and is used as it is: the id passed again would be a
 * second "messageId" in the same JSON line. Any other logger (an API request's, the AS4 reception's) gets
 * a child bound to the id. For code that runs both in a job and outside one (recordEvidence); a stage's
 * own code logs with ctx.log and names no messageId. A logger bound to another message (no caller today)
 * names this one as relatedMessageId: pino cannot unbind a field, and a key twice in a line is not JSON
 * anyone can rely on (parsers keep one of the two).
 */
export function messageLog(log: Logger, messageId: string): Logger {
  const bound: unknown = log.bindings().messageId;
  if (bound === messageId) return log;
  return log.child(bound === undefined ? { messageId } : { relatedMessageId: messageId });
}

/** The state change an evidence proves, applied compare-and-set in the evidence's transaction. */
export interface StateChange {
  readonly from: MessageState;
  readonly to: MessageState;
  readonly patch?: { lastError?: string; attempts?: number };
}

/**
 * The transaction that commits a job step's outcome: in a job run by a runner (ctx.completion) it also completes
 * the job's outbox entry, under the job's lease, so that the step and the end of its job are one commit; else a
 * plain store transaction. Use it for the step's last write only: once it committed, the job is settled.
 */
export function stepTransaction<T>(
  ctx: PipelineContext,
  work: (tx: StoreTransaction) => Promise<T>,
): Promise<T> {
  return ctx.completion ? ctx.completion.transaction(work) : ctx.store.transaction(work);
}

/** What recordEvidence commits besides the evidence and the state change. */
export interface RecordOptions {
  /** Also a notify job that carries the evidence back to the sender's AP. */
  readonly returnToSender?: boolean;
  /** More writes of the same transaction. */
  readonly alsoInTransaction?: (tx: StoreTransaction) => Promise<unknown>;
  /**
   * The evidence is the outcome of the running job's step: its transaction also completes the job
   * (stepTransaction). @defaultValue false
   */
  readonly completesJob?: boolean;
}

/**
 * Issue an evidence about a stored message (chained to its latest one) and commit it together with
 * `alsoInTransaction` (a state change) and, when `returnToSender`, a notify job that carries it back
 * to the sender's AP.
 */
export async function recordEvidence(
  ctx: PipelineContext,
  message: StoredMessage,
  request: Omit<EvidenceRequest, 'message' | 'previousEvidenceId'>,
  transition: StateChange,
  options: RecordOptions = {},
): Promise<IssuedEvidence> {
  // Sealing (TSA round trip) happens outside the transaction; the chain link it names is checked inside it,
  // under the message's row lock (insertEvidence previousId). Another evidence recorded meanwhile (a parallel
  // job of the same message): seal again on the new head, a few times, rather than record a forked chain.
  for (let attempt = 1; ; attempt += 1) {
    const previousId = (await ctx.store.evidenceHead(message.id))?.id ?? null;
    try {
      return await recordChainedEvidence(ctx, message, request, transition, options, previousId);
    } catch (error) {
      if (!isQerdsError(error, 'STORE_CHAIN_MOVED') || attempt >= chainAttempts) throw error;
      messageLog(ctx.log, message.id).info(
        { event: request.event, attempt },
        'evidence chain moved on while sealing; sealing again',
      );
    }
  }
}

/** Tries of recordEvidence when the chain keeps moving under it (each one means another evidence was recorded). */
const chainAttempts = 5;

async function recordChainedEvidence(
  ctx: PipelineContext,
  message: StoredMessage,
  request: Omit<EvidenceRequest, 'message' | 'previousEvidenceId'>,
  transition: StateChange,
  options: RecordOptions,
  previousId: string | null,
): Promise<IssuedEvidence> {
  const evidence = await ctx.evidence.issue({
    ...request,
    message,
    ...(previousId === null ? {} : { previousEvidenceId: previousId }),
  });
  let copied = false;
  const work = async (tx: StoreTransaction) => {
    // The evidence stands only with the state change it proves: if another job or request moved the message
    // first, nothing is recorded (no ContentConsignment after a handover, no RelayFailure after a delivery).
    if (!(await tx.transitionMessage(message.id, transition.from, transition.to, transition.patch))) {
      throw new QerdsError(
        'STATE_CONFLICT',
        `message ${message.id} is no longer ${transition.from}: ${request.event} not recorded`,
      );
    }
    await options.alsoInTransaction?.(tx);
    await tx.insertEvidence(
      {
        id: evidence.id,
        messageId: message.id,
        event: evidence.event,
        eventTime: evidence.eventTime,
        xml: evidence.xml,
        issuedBy: ctx.self.id,
      },
      { previousId },
    );
    if (options.returnToSender) await tx.enqueue('notify', message.id, { evidenceId: evidence.id });
    // At the sender's AP (e.g. RelayFailure) the evidence also goes to a sender who gets it by mail or webhook.
    if (
      message.role === 'sender-ap' &&
      (await enqueueSenderCopies(ctx, tx, message.sender, message.id, evidence.id))
    )
      copied = true;
  };
  await (options.completesJob ? stepTransaction(ctx, work) : ctx.store.transaction(work));
  if (options.returnToSender || copied) ctx.poke();
  return evidence;
}

/** For `.catch()` after recordEvidence: a lost state race means the work is already done elsewhere. */
export function unlessMovedOn(error: unknown): undefined {
  if (error instanceof QerdsError && error.code === 'STATE_CONFLICT') return undefined;
  throw error;
}
