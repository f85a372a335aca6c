/**
 * The ebMS error table as data: ebMS 3.0 Core §6.7.1 (EBMS:0001–0011), §6.7.2 security (0101–0103),
 * §6.7.3 reliability (0201–0202) and AS4 profile §5 additional features (0301–0303).
 * QerdsError codes are `AS4_EBMS_<nnnn>`; only the AS4 edge turns them into eb:Error elements.
 */
export type EbmsErrorCode =
  | 'EBMS:0001'
  | 'EBMS:0002'
  | 'EBMS:0003'
  | 'EBMS:0004'
  | 'EBMS:0005'
  | 'EBMS:0006'
  | 'EBMS:0007'
  | 'EBMS:0008'
  | 'EBMS:0009'
  | 'EBMS:0010'
  | 'EBMS:0011'
  | 'EBMS:0101'
  | 'EBMS:0102'
  | 'EBMS:0103'
  | 'EBMS:0201'
  | 'EBMS:0202'
  | 'EBMS:0301'
  | 'EBMS:0302'
  | 'EBMS:0303';

export interface EbmsErrorDefinition {
  readonly code: EbmsErrorCode;
  /** eb:Error/@shortDescription, the spec's "Short Description". */
  readonly shortDescription: string;
  readonly severity: 'failure' | 'warning';
  readonly category: 'Content' | 'Communication' | 'Unpackaging' | 'Processing';
  /** eb:Error/@origin: the module of the MSH that raised it. */
  readonly origin: 'ebMS' | 'security' | 'reliability';
  /** The spec's description, used as eb:Description. */
  readonly description: string;
  /** Whether sending the same message again may succeed (sender side decision aid). */
  readonly retryable: boolean;
}

const table: readonly EbmsErrorDefinition[] = [
  {
    code: 'EBMS:0001',
    shortDescription: 'ValueNotRecognized',
    severity: 'failure',
    category: 'Content',
    origin: 'ebMS',
    retryable: false,
    description:
      'Although the message document is well formed and schema valid, some element/attribute contains a value that could not be recognized and therefore could not be used by the MSH.',
  },
  {
    code: 'EBMS:0002',
    shortDescription: 'FeatureNotSupported',
    severity: 'warning',
    category: 'Content',
    origin: 'ebMS',
    retryable: false,
    description:
      'Although the message document is well formed and schema valid, some element/attribute value cannot be processed as expected because the related feature is not supported by the MSH.',
  },
  {
    code: 'EBMS:0003',
    shortDescription: 'ValueInconsistent',
    severity: 'failure',
    category: 'Content',
    origin: 'ebMS',
    retryable: false,
    description:
      'Although the message document is well formed and schema valid, some element/attribute value is inconsistent either with the content of other element/attribute, or with the processing mode of the MSH, or with the normative requirements of the ebMS specification.',
  },
  {
    code: 'EBMS:0004',
    shortDescription: 'Other',
    severity: 'failure',
    category: 'Content',
    origin: 'ebMS',
    retryable: true,
    description: 'An error occurred that is not covered explicitly by any other error code.',
  },
  {
    code: 'EBMS:0005',
    shortDescription: 'ConnectionFailure',
    severity: 'failure',
    category: 'Communication',
    origin: 'ebMS',
    retryable: true,
    description:
      'The MSH is experiencing temporary or permanent failure in trying to open a transport connection with a remote MSH.',
  },
  {
    code: 'EBMS:0006',
    shortDescription: 'EmptyMessagePartitionChannel',
    severity: 'warning',
    category: 'Communication',
    origin: 'ebMS',
    retryable: true,
    description: 'There is no message available for pulling from this MPC at this moment.',
  },
  {
    code: 'EBMS:0007',
    shortDescription: 'MimeInconsistency',
    severity: 'failure',
    category: 'Unpackaging',
    origin: 'ebMS',
    retryable: false,
    description: 'The use of MIME is not consistent with the required usage in this specification.',
  },
  {
    code: 'EBMS:0008',
    shortDescription: 'FeatureNotSupportedInconsistency',
    severity: 'failure',
    category: 'Unpackaging',
    origin: 'ebMS',
    retryable: false,
    description:
      'Although the message document is well formed and schema valid, the presence or absence of some element/attribute is not consistent with the capability of the MSH, with respect to supported features.',
  },
  {
    code: 'EBMS:0009',
    shortDescription: 'InvalidHeader',
    severity: 'failure',
    category: 'Unpackaging',
    origin: 'ebMS',
    retryable: false,
    description:
      'The ebMS header is either not well formed as an XML document, or does not conform to the ebMS packaging rules.',
  },
  {
    code: 'EBMS:0010',
    shortDescription: 'ProcessingModeMismatch',
    severity: 'failure',
    category: 'Processing',
    origin: 'ebMS',
    retryable: false,
    description:
      'The ebMS header or another header (e.g. reliability, security) expected by the MSH is not compatible with the expected content, based on the associated P-Mode.',
  },
  {
    code: 'EBMS:0011',
    shortDescription: 'ExternalPayloadError',
    severity: 'failure',
    category: 'Content',
    origin: 'ebMS',
    retryable: false,
    description:
      'The MSH is unable to resolve an external payload reference (i.e. a Part that is not contained within the ebMS Message, as identified by a PartInfo/href URI).',
  },
  {
    code: 'EBMS:0101',
    shortDescription: 'FailedAuthentication',
    severity: 'failure',
    category: 'Processing',
    origin: 'security',
    retryable: false,
    description:
      'The signature in the Security header block could not be validated by the Security module, or the sender could not be successfully authenticated.',
  },
  {
    code: 'EBMS:0102',
    shortDescription: 'FailedDecryption',
    severity: 'failure',
    category: 'Processing',
    origin: 'security',
    retryable: false,
    description:
      'The encrypted data reference in the Security header cannot be decrypted by the Security module.',
  },
  {
    code: 'EBMS:0103',
    shortDescription: 'PolicyNoncompliance',
    severity: 'failure',
    category: 'Processing',
    origin: 'security',
    retryable: false,
    description:
      "The processor determined that the message's security methods, parameters, scope or other security policy-level requirements or agreements were not satisfied.",
  },
  {
    code: 'EBMS:0201',
    shortDescription: 'DysfunctionalReliability',
    severity: 'failure',
    category: 'Processing',
    origin: 'reliability',
    retryable: true,
    description:
      'Some reliability function as implemented by the Reliability module, is not operational, or the reliability state associated with this message sequence is not valid.',
  },
  {
    code: 'EBMS:0202',
    shortDescription: 'DeliveryFailure',
    severity: 'failure',
    category: 'Communication',
    origin: 'reliability',
    retryable: true,
    description:
      'Although the message was sent under Guaranteed delivery requirement, the Reliability module could not get assurance that the message was properly delivered, in spite of resending efforts.',
  },
  {
    code: 'EBMS:0301',
    shortDescription: 'MissingReceipt',
    severity: 'failure',
    category: 'Communication',
    origin: 'ebMS',
    retryable: true,
    description:
      'A Receipt has not been received for a message that was previously sent by the MSH generating this error.',
  },
  {
    code: 'EBMS:0302',
    shortDescription: 'InvalidReceipt',
    severity: 'failure',
    category: 'Communication',
    origin: 'ebMS',
    retryable: true,
    description:
      'A Receipt has been received for a message that was previously sent by the MSH generating this error, but the content does not match the message content (e.g. some part has not been acknowledged, or the digest associated does not match the signature digest, for NRR).',
  },
  {
    code: 'EBMS:0303',
    shortDescription: 'DecompressionFailure',
    severity: 'failure',
    category: 'Communication',
    origin: 'ebMS',
    retryable: false,
    description: 'An error occurred during the decompression.',
  },
];

/**
 * The QerdsError codes of the ebMS table (`AS4_EBMS_0101`…) join the union of catalogued codes; their wire form
 * is the table above, read through ebmsCodeOf.
 */
declare module '../../core/errors.js' {
  interface QerdsErrorCatalogues {
    readonly ebms: Readonly<Record<`AS4_EBMS_${string}`, EbmsErrorDefinition>>;
  }
}

export const ebmsErrors: ReadonlyMap<EbmsErrorCode, EbmsErrorDefinition> = new Map(
  table.map((e) => [e.code, Object.freeze(e)]),
);

export function isEbmsErrorCode(value: string): value is EbmsErrorCode {
  return ebmsErrors.has(value as EbmsErrorCode);
}

/** `EBMS:0101` → `AS4_EBMS_0101` (the QerdsError code). */
export function qerdsCodeOf(code: EbmsErrorCode): `AS4_EBMS_${string}` {
  return `AS4_EBMS_${code.slice(5)}`;
}

/** `AS4_EBMS_0101` → `EBMS:0101`, or undefined when the QerdsError code is not an ebMS one. */
export function ebmsCodeOf(qerdsCode: string): EbmsErrorCode | undefined {
  const m = /^AS4_EBMS_(\d{4})$/.exec(qerdsCode);
  const code = m ? `EBMS:${m[1]}` : '';
  return isEbmsErrorCode(code) ? code : undefined;
}

export function ebmsError(code: EbmsErrorCode): EbmsErrorDefinition {
  const def = ebmsErrors.get(code);
  if (!def) throw new Error(`unknown ebMS error ${code}`);
  return def;
}
