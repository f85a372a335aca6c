import { z } from 'zod';
import { QerdsError } from '../../core/index.js';
import { ALG } from './namespaces.js';
import type { Attachment, UserMessage } from './types.js';

/**
 * Processing Modes (ebMS 3.0 Core §4 and Appendix D, AS4 profile §3): what two MSHs agreed for one
 * service/action between two parties. Only the parameters qerds-ap acts on are modelled; names follow
 * the spec (`PMode.Agreement`, `PMode.MEP`, `PMode[1].BusinessInfo.Service`, `PMode[1].Security.*`,
 * `PMode[1].ReceptionAwareness.*`). One leg: AS4 one-way push.
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

/** One side of a P-Mode (PMode.Initiator / PMode.Responder): an eb:From or eb:To a message must carry. */
const party = z
  .object({
    /** eb:PartyId, e.g. this AP's `ap.id`, or a Peppol seat id (`POP000123`, the CN of the AP certificate). */
    partyId: z.string().min(1),
    /** eb:PartyId/@type; absent: an untyped id (a URI). Matched exactly, absent only against absent. */
    partyIdType: z.string().min(1).optional(),
    /** eb:Role, e.g. the ebMS default `http://docs.oasis-open.org/ebxml-msg/ebms/v3.0/ns/core/200704/initiator`. */
    role: z.string().min(1),
  })
  .strict();

/** The configuration shape of one P-Mode (defaults filled by `definePMode`). */
export const pmodeSchema = z
  .object({
    /** Name of the P-Mode, unique among `as4.pmodes`: it names the P-Mode in errors and logs, not on the wire. */
    id: z.string().min(1),
    /**
     * Id of the AS4 profile plug-in (src/as4/model/profile.ts `As4Profile`) whose defaults and rules this P-Mode follows.
     * The AS4 core does not read it; the composition root resolves it.
     * @defaultValue the eDelivery profile of `security.algorithmSet` when that is given, else `as4.profile`
     */
    profile: z.string().min(1).optional(),
    /**
     * PMode.Agreement → eb:AgreementRef: sent in every message under this P-Mode, and an incoming message must carry it
     * to match. Absent: none is sent, and incoming messages match whatever they carry.
     */
    agreement: z.string().min(1).optional(),
    /**
     * PMode.MEP one-way; PMode.MEPbinding `push`: the sender POSTs the message to the receiver's /as4 and takes the
     * receipt from the response. `pull` is refused: this AP keeps no outbox for a peer to pull from and pulls from
     * none (a PullRequest it receives is answered with EBMS:0008). @defaultValue 'push'
     */
    mep: z
      .literal('push', {
        error:
          'only the one-way "push" MEP is supported: this access point serves no PullRequest and pulls from no peer',
      })
      .default('push'),
    /**
     * PMode.Initiator, the sending party (eb:From). Receiving, a message from another party does not match this
     * P-Mode; sending, it is the eb:From. Absent: any sender matches, and this AP sends as `ap.id` with the ebMS
     * default initiator role.
     */
    initiator: party.optional(),
    /**
     * PMode.Responder, the receiving party (eb:To). Receiving, a message to another party does not match; sending,
     * it is the eb:To. Absent: any recipient matches, and this AP addresses the peer by its endpoint URL with the
     * ebMS default responder role.
     */
    responder: party.optional(),
    /**
     * PMode[1].BusinessInfo.Service (eb:Service): with `action`, what an outgoing message is sent under and what an
     * incoming one must carry to match. The ERDS service of qerds-ap peers is `urn:qerds-ap:service:erds`.
     */
    service: z.string().min(1),
    /** eb:Service/@type; absent: an untyped service. Matched exactly, absent only against absent. */
    serviceType: z.string().min(1).optional(),
    /** PMode[1].BusinessInfo.Action (eb:Action), e.g. the ERDS `Dispatch` or `Evidence`, or a Peppol document type id. */
    action: z.string().min(1),
    /** PMode[1].Security: the algorithms and whether payloads are encrypted. */
    security: z
      .object({
        /**
         * The eDelivery AS4 algorithm set: `edelivery-1.15` (RSA-SHA256 signatures, RSA-OAEP key transport,
         * AES-128-GCM) or `edelivery-2.0` (Ed25519 signatures, X25519 key agreement with AES-128 key wrap,
         * AES-128-GCM). The AP's e-seal and AS4 encryption keys must fit it (RSA and RSA for 1.15, Ed25519 and X25519
         * for 2.0; checked at start). Left out, it is the set of the P-Mode's profile (the Peppol profile's is
         * `edelivery-1.15`); a P-Mode defined without any profile gets `edelivery-1.15`.
         * @defaultValue the algorithm set of the P-Mode's profile
         */
        // No schema default: a default filled while the config is parsed would hide `as4.profile` from
        // resolvePModes (src/profiles), which picks a P-Mode's profile from this field when it is given.
        algorithmSet: z.enum(['edelivery-1.15', 'edelivery-2.0']).optional(),
        /** PMode[1].Security.X509.Encryption.Encrypt: every payload encrypted. @defaultValue true */
        encrypt: z.boolean().default(true),
      })
      .strict()
      .prefault({}),
    /** PMode[1].Security.SendReceipt: what the AS4 receipt carries and how it comes back. */
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
    /**
     * PMode[1].PayloadService.CompressionType application/gzip: payloads sent under this P-Mode are GZIP-compressed
     * (unless `as4.compress` is false). @defaultValue true
     */
    compress: z.boolean().default(true),
    /** PMode[1].ReceptionAwareness: the sender's retries and the receiver's duplicate detection. */
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
type ParsedPMode = z.output<typeof pmodeSchema>;
export type PMode = Readonly<
  Omit<ParsedPMode, 'security'> & {
    security: Omit<ParsedPMode['security'], 'algorithmSet'> & { algorithmSet: AlgorithmSet };
  }
>;

/** A P-Mode with its defaults filled in, frozen (the input is not modified). */
export function definePMode(input: PModeInput): PMode {
  const parsed = pmodeSchema.safeParse(input);
  if (!parsed.success)
    throw new QerdsError(
      'AS4_PMODE_INVALID',
      `P-Mode ${input.id ?? '?'} is invalid: ${parsed.error.message}`,
    );
  const { security } = parsed.data;
  return Object.freeze({
    ...parsed.data,
    security: { ...security, algorithmSet: security.algorithmSet ?? 'edelivery-1.15' },
  });
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
