import { z } from 'zod';
import { QerdsError } from '../core/index.js';
import { ALG, EBMS_DEFAULT_MPC } from './namespaces.js';
import type { Attachment, UserMessage } from './types.js';

/**
 * Processing Modes (ebMS 3.0 Core §4 and Appendix D, AS4 profile §3): what two MSHs agreed for one
 * service/action between two parties. Only the parameters qerds-ap acts on are modelled; names follow
 * the spec (`PMode.Agreement`, `PMode.MEP`, `PMode[1].BusinessInfo.Service`, `PMode[1].Security.*`,
 * `PMode[1].ReceptionAwareness.*`). One leg: AS4 one-way push or pull.
 */
export type AlgorithmSet = 'edelivery-1.15' | 'edelivery-2.0';

/** The algorithms of each eDelivery AS4 profile (AS4.md): signature, key transport/agreement, content. */
export const ALGORITHM_SETS: Readonly<
  Record<AlgorithmSet, { signature: string; keyProtection: string; contentEncryption: string }>
> = Object.freeze({
  'edelivery-1.15': {
    signature: ALG.rsaSha256,
    keyProtection: ALG.rsaOaep,
    contentEncryption: ALG.aes128Gcm,
  },
  'edelivery-2.0': {
    signature: ALG.eddsaEd25519,
    keyProtection: ALG.kwAes128,
    contentEncryption: ALG.aes128Gcm,
  },
});

const party = z
  .object({ partyId: z.string().min(1), partyIdType: z.string().min(1).optional(), role: z.string().min(1) })
  .strict();

/** The configuration shape of one P-Mode (defaults filled by `definePMode`). */
export const pmodeSchema = z
  .object({
    id: z.string().min(1),
    /**
     * Id of the AS4 profile plug-in (src/as4/profile.ts `As4Profile`) whose defaults and rules this P-Mode follows.
     * The AS4 core does not read it; the composition root resolves it. @defaultValue the eDelivery profile of `security.algorithmSet`
     */
    profile: z.string().min(1).optional(),
    /** PMode.Agreement → eb:AgreementRef. */
    agreement: z.string().min(1).optional(),
    /** PMode.MEP one-way; PMode.MEPbinding push or pull. @defaultValue 'push' */
    mep: z.enum(['push', 'pull']).default('push'),
    /** PMode[1].BusinessInfo.MPC: the channel a pull draws from. @defaultValue the ebMS default MPC */
    mpc: z.string().min(1).default(EBMS_DEFAULT_MPC),
    initiator: party.optional(),
    responder: party.optional(),
    service: z.string().min(1),
    serviceType: z.string().min(1).optional(),
    action: z.string().min(1),
    security: z
      .object({
        /** @defaultValue 'edelivery-1.15' */
        algorithmSet: z.enum(['edelivery-1.15', 'edelivery-2.0']).default('edelivery-1.15'),
        /** PMode[1].Security.X509.Encryption.Encrypt: every payload encrypted. @defaultValue true */
        encrypt: z.boolean().default(true),
      })
      .strict()
      .prefault({}),
    receipt: z
      .object({
        /**
         * PMode[1].Security.SendReceipt.NonRepudiation: receiving, the receipt carries ebbp:NonRepudiationInformation
         * (the digests of every signed part); sending, a receipt without it (or with other digests) is EBMS:0302.
         * False: the receipt carries a copy of the eb:UserMessage (reception awareness only). @defaultValue true
         */
        nonRepudiation: z.boolean().default(true),
        /**
         * PMode[1].Security.SendReceipt.ReplyPattern: `response`, the receipt (or error) on the HTTP response of the
         * push, as eDelivery AS4 2.0 requires. `callback` (a separate push back) is not supported and refused here.
         * @defaultValue 'response'
         */
        replyPattern: z
          .literal('response', {
            error: 'only the "response" reply pattern is supported (receipts and errors synchronous)',
          })
          .default('response'),
      })
      .strict()
      .prefault({}),
    /** PMode[1].PayloadService.CompressionType application/gzip. @defaultValue true */
    compress: z.boolean().default(true),
    reliability: z
      .object({
        /**
         * ReceptionAwareness.Retry.Parameters: attempts after the first before the sender gives up (RelayFailure).
         * Used for the Dispatch P-Mode's relay. @defaultValue `relay.maxAttempts` − 1 (the AP-wide budget)
         */
        retries: z.number().int().min(0).optional(),
        /** First retry interval, ms; doubled each time (equal jitter), at most `relay.maxDelayMs`. @defaultValue `relay.baseDelayMs` */
        retryIntervalMs: z.number().int().positive().optional(),
        /**
         * ReceptionAwareness.DuplicateDetection window, seconds: a MessageId received again within it is answered
         * with the original receipt, byte for byte, and not processed again. After it, the AP's store still drops
         * the duplicate (idempotent reception), answered with a new receipt. @defaultValue 604800 (7 days)
         */
        duplicateDetectionWindowSeconds: z.number().int().positive().default(604_800),
      })
      .strict()
      .prefault({}),
  })
  .strict();

export type PModeInput = z.input<typeof pmodeSchema>;
export type PMode = Readonly<z.output<typeof pmodeSchema>>;

/** A P-Mode with its defaults filled in, frozen (the input is not modified). */
export function definePMode(input: PModeInput): PMode {
  const parsed = pmodeSchema.safeParse(input);
  if (!parsed.success)
    throw new QerdsError(
      'AS4_PMODE_INVALID',
      `P-Mode ${input.id ?? '?'} is invalid: ${parsed.error.message}`,
    );
  return Object.freeze(parsed.data);
}

function samePartyAs(want: PMode['initiator'], got: UserMessage['from']): boolean {
  return (
    !want ||
    (want.partyId === got.partyId &&
      (want.partyIdType ?? undefined) === (got.partyIdType ?? undefined) &&
      want.role === got.role)
  );
}

/** Why `pmode` does not fit `message`, or undefined when it does. */
export function pmodeMismatch(pmode: PMode, message: UserMessage): string | undefined {
  const c = message.collaboration;
  if (pmode.service !== c.service || (pmode.serviceType ?? undefined) !== (c.serviceType ?? undefined))
    return 'service';
  if (pmode.action !== c.action) return 'action';
  if (pmode.agreement !== undefined && pmode.agreement !== c.agreementRef) return 'agreement';
  if (!samePartyAs(pmode.initiator, message.from)) return 'initiator';
  if (!samePartyAs(pmode.responder, message.to)) return 'responder';
  return undefined;
}

/**
 * The P-Mode of an incoming UserMessage: the first of `pmodes` (configuration order) whose agreement,
 * service, action and parties fit. None → QerdsError AS4_EBMS_0010 (ProcessingModeMismatch).
 */
export function matchPMode(pmodes: readonly PMode[], message: UserMessage): PMode {
  const found = pmodes.find((p) => pmodeMismatch(p, message) === undefined);
  if (found) return found;
  const c = message.collaboration;
  throw new QerdsError(
    'AS4_EBMS_0010',
    `no P-Mode for service ${c.service}, action ${c.action}${c.agreementRef ? `, agreement ${c.agreementRef}` : ''} from ${message.from.partyId} to ${message.to.partyId}`,
  );
}

/** What the receiver observed about an incoming message's security. */
export interface ObservedSecurity {
  readonly signatureAlgorithm?: string;
  /** EncryptedKey algorithms (key transport or key wrap) used. */
  readonly keyProtection: readonly string[];
  /** Content-IDs that arrived encrypted. */
  readonly encrypted: readonly string[];
  readonly attachments: readonly Attachment[];
}

/**
 * The P-Mode's security policy, met or not (AS4 §5 / eDelivery): the signature algorithm of its algorithm
 * set, and, when it wants encryption, every payload encrypted with that set's key protection. A message
 * that falls short → QerdsError AS4_EBMS_0103 (PolicyNoncompliance); it is not processed.
 */
export function assertPModeSecurity(pmode: PMode, seen: ObservedSecurity): void {
  const set = ALGORITHM_SETS[pmode.security.algorithmSet];
  const refuse = (why: string): never => {
    throw new QerdsError('AS4_EBMS_0103', `P-Mode ${pmode.id}: ${why}`);
  };
  if (seen.signatureAlgorithm !== set.signature)
    refuse(`signature must use ${set.signature}, not ${seen.signatureAlgorithm ?? 'none'}`);
  if (!pmode.security.encrypt) return;
  const plain = seen.attachments.filter((a) => !seen.encrypted.includes(a.contentId));
  if (plain.length > 0) refuse(`payload ${plain.map((a) => a.contentId).join(', ')} is not encrypted`);
  if (
    seen.attachments.length > 0 &&
    (seen.keyProtection.length === 0 || seen.keyProtection.some((k) => k !== set.keyProtection))
  ) {
    refuse(`payload keys must be protected with ${set.keyProtection}`);
  }
}
