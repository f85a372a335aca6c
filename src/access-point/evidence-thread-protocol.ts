import {
  isQerdsError,
  QerdsError,
  type EvidenceData,
  type QerdsErrorCode,
  type TimeStampToken,
} from '../core/index.js';
import type { EvidenceCheck } from '../pipeline/index.js';
import type { PackedJob, PackJob, ReceiptJob } from './as4-work.js';

/**
 * The messages between the evidence pool (main thread, evidence-pool.ts) and its threads (evidence-thread.ts):
 * plain data only (structured clone: a Buffer arrives as a Uint8Array; KeyObject and X509Certificate are cloned).
 * Besides evidence, the threads do the AS4 work of as4-work.ts (packing, receipts).
 */

/** `workerData` of a thread: what it builds its signer, TSA and trust store from (the AP's configuration). */
export interface EvidenceThreadInit {
  /** The e-seal (`pki.sealCert`/`sealKey` as resolved): PEM files; only file keys are sealed with in threads. */
  readonly seal: { readonly cert: string; readonly key: string };
  /** The embedded TSA's PEM files and policy; absent: the thread asks the main thread's TSA client (a remote TSA). */
  readonly tsa?: { readonly cert: string; readonly key: string; readonly policyOid: string };
  /** DER of the anchors evidence seals are judged by (the AP's seal trust). */
  readonly anchors: readonly Uint8Array[];
  readonly level: 'B-T' | 'B-LT' | 'B-LTA';
  /** DER of the CA certificates B-LT seals embed. */
  readonly certificates: readonly Uint8Array[];
  /** The main thread's CRLs at spawn time, and their generation. */
  readonly crls: readonly (Uint8Array | string)[];
  readonly generation: number;
}

export interface WireError {
  readonly code?: string;
  readonly message: string;
  readonly details?: Record<string, unknown>;
}

export type ThreadRequest =
  | { type: 'crls'; crls: readonly (Uint8Array | string)[]; generation: number }
  | { type: 'seal'; id: number; generation: number; data: EvidenceData; sigId: string; clockOffsetMs: number }
  | {
      type: 'check';
      id: number;
      generation: number;
      xml: string;
      issuerPins?: readonly { issuerId: string; fingerprint256: string }[];
    }
  | { type: 'pack'; id: number; generation: number; job: PackJob }
  | { type: 'receipt'; id: number; generation: number; job: ReceiptJob }
  | { type: 'tsa-result'; id: number; token?: TimeStampToken; error?: WireError };

export type ThreadReply =
  | { type: 'ready' }
  | { type: 'done'; id: number; generation: number; result: string | EvidenceCheck | PackedJob }
  | { type: 'failed'; id: number; error: WireError }
  | { type: 'tsa'; id: number; imprint: { algorithm: string; digest: Uint8Array } }
  /** A request to the thread's own (embedded) TSA, timed for the AP's metrics; `error`: its code. */
  | { type: 'tsa-timed'; seconds: number; error?: string };

/** An error as it crosses between threads: a QerdsError keeps its code (and so its catalogue entry: retryable…). */
export function toWire(error: unknown): WireError {
  if (isQerdsError(error))
    return {
      code: error.code,
      message: error.message,
      ...(error.details ? { details: { ...error.details } } : {}),
    };
  return { message: error instanceof Error ? error.message : String(error) };
}

export function fromWire(error: WireError): Error {
  if (error.code === undefined) return new Error(error.message);
  return new QerdsError(
    error.code as QerdsErrorCode,
    error.message,
    error.details ? { details: error.details } : {},
  );
}
