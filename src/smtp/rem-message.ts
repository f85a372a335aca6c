import { createHash, randomBytes } from 'node:crypto';
import { cmsSignatureScheme, signCmsData } from '../crypto/index.js';
import type { SigningIdentity } from '../pki/index.js';
import { ALGORITHM_URI } from '../xml/index.js';
import { encodeAddress, encodeHeaderText, foldBase64 } from './mime-headers.js';
import { introductionTexts, type IntroductionTexts } from './rem-texts.js';

/**
 * A REM message (ETSI EN 319 532-3): an S/MIME `multipart/signed` (RFC 8551 §3.5.3) around a
 * `multipart/mixed` holding, in order, the introduction (`multipart/alternative`: text, HTML), the original
 * message (`message/rfc822`), the evidence (`application/xml`, `<Event>.xml`) and extensions, each part
 * marked with `REM-Section-Type`. The message header carries the `REM-*` metadata; the subject is
 * `REM <Event>: <original subject>`. The signature is a detached CMS SignedData by the AP's e-seal over the
 * canonical (CRLF) bytes of the `multipart/mixed` entity, whose header repeats the addressing and `REM-*`
 * headers (RFC 9788 header protection) so that they are signed too.
 *
 *   multipart/signed; protocol="application/pkcs7-signature"; micalg=sha-256
 *   ├─ multipart/mixed                                  (signed)
 *   │  ├─ multipart/alternative  REM-Section-Type: rem_message/introduction
 *   │  │  ├─ text/plain; charset=UTF-8
 *   │  │  └─ text/html; charset=UTF-8
 *   │  ├─ message/rfc822         REM-Section-Type: rem_message/original      (when there is one)
 *   │  ├─ application/xml        REM-Section-Type: rem_message/xml_evidence  (<Event>.xml)
 *   │  └─ …                      REM-Section-Type: rem_message/extension
 *   └─ application/pkcs7-signature (smime.p7s)
 */
export interface RemMessageInput {
  /** EN 319 522 event name of the evidence, e.g. `SubmissionAcceptance`. */
  readonly event: string;
  /** The sealed evidence XML, attached as is. */
  readonly evidenceXml: string;
  /** The original message (RFC 5322 bytes), carried as `message/rfc822`. */
  readonly original?: Buffer;
  /** SHA-256 (hex) of the original when it is not attached (a receipt about it). */
  readonly originalSha256?: string;
  /** Subject of the original message. */
  readonly subject: string;
  /** The AP's address (REM-MD). */
  readonly from: { readonly address: string; readonly name?: string };
  readonly to: readonly { readonly address: string; readonly name?: string }[];
  /** `Dispatch` carries the original to the recipient; `Receipt` carries evidence back. @defaultValue Dispatch with an original, else Receipt */
  readonly messageType?: 'Dispatch' | 'Receipt';
  /** REM-ApplicablePolicy: the policy URIs the evidence was issued under. */
  readonly policies?: readonly string[];
  /** Reason text of a negative event, for the introduction. */
  readonly reason?: string;
  /** Event time, for the introduction. @defaultValue date */
  readonly eventTime?: Date;
  /** Replaces the default bilingual introduction. */
  readonly introduction?: IntroductionTexts;
  /** `rem_message/extension` parts. */
  readonly extensions?: readonly {
    readonly contentType: string;
    readonly filename?: string;
    readonly content: Buffer;
  }[];
  /** Further `REM-*` headers (REM-RelayDate, REM-ExpirationDate…), name → value. */
  readonly remHeaders?: Readonly<Record<string, string>>;
  readonly signer: SigningIdentity;
  /** @defaultValue now */
  readonly date?: Date;
  /**
   * RFC 9788 `hp` parameter of the signed entity, whose header repeats the protected header fields:
   * `clear` for a signed message, `cipher` when the caller encrypts it next (encryptRemMessage).
   * @defaultValue 'clear'
   */
  readonly headerProtection?: 'clear' | 'cipher';
  /** `<…>` form; @defaultValue a random id at the domain of `from` */
  readonly messageId?: string;
  /** Message-ID of the original, for In-Reply-To/References of receipts. */
  readonly inReplyTo?: string;
}

export interface RemMessage {
  readonly raw: Buffer;
  readonly messageId: string;
}

export const REM_METADATA_VERSION = '1.1.1';
export const REM_DIGEST_ALGORITHM = ALGORITHM_URI.sha256;
const CRLF = '\r\n';

export function buildRemMessage(input: RemMessageInput): RemMessage {
  const date = input.date ?? new Date();
  const original = input.original ? toCrlf(input.original) : undefined;
  const taken = [original ?? Buffer.alloc(0)];
  const boundary = () => uniqueBoundary(taken);
  const intro =
    input.introduction ??
    introductionTexts({
      event: input.event,
      subject: input.subject,
      eventTime: input.eventTime ?? date,
      reason: input.reason,
    });

  const altBoundary = boundary();
  const introduction = entity(
    [
      `Content-Type: multipart/alternative; boundary="${altBoundary}"`,
      'REM-Section-Type: rem_message/introduction',
    ],
    multipartBody(altBoundary, [
      entity(
        ['Content-Type: text/plain; charset=UTF-8', 'Content-Transfer-Encoding: base64'],
        foldBase64(Buffer.from(intro.text, 'utf8')),
      ),
      entity(
        ['Content-Type: text/html; charset=UTF-8', 'Content-Transfer-Encoding: base64'],
        foldBase64(Buffer.from(intro.html, 'utf8')),
      ),
    ]),
  );
  const sections = [introduction];
  if (original) {
    // RFC 2046 §5.2.1: message/rfc822 allows no base64; 8bit where the original has 8-bit octets.
    const cte = original.some((b) => b > 0x7f) ? '8bit' : '7bit';
    sections.push(
      entity(
        [
          'Content-Type: message/rfc822',
          `Content-Transfer-Encoding: ${cte}`,
          'Content-Disposition: inline',
          'REM-Section-Type: rem_message/original',
        ],
        original,
      ),
    );
  }
  const evidenceName = `${input.event.replace(/[^A-Za-z0-9]/g, '')}.xml`;
  sections.push(
    entity(
      [
        `Content-Type: application/xml; name="${evidenceName}"`,
        'Content-Transfer-Encoding: base64',
        `Content-Disposition: attachment; filename="${evidenceName}"`,
        'REM-Section-Type: rem_message/xml_evidence',
      ],
      foldBase64(Buffer.from(input.evidenceXml, 'utf8')),
    ),
  );
  for (const ext of input.extensions ?? []) {
    const name = ext.filename ? `; name="${ext.filename.replace(/["\\\r\n]/g, '_')}"` : '';
    sections.push(
      entity(
        [
          `Content-Type: ${ext.contentType}${name}`,
          'Content-Transfer-Encoding: base64',
          'REM-Section-Type: rem_message/extension',
        ],
        foldBase64(ext.content),
      ),
    );
  }
  const messageId =
    input.messageId ??
    `<rem-${randomBytes(12).toString('hex')}@${input.from.address.split('@')[1] ?? 'localhost'}>`;
  const digest = original
    ? createHash('sha256').update(input.original!).digest('base64')
    : input.originalSha256
      ? Buffer.from(input.originalSha256, 'hex').toString('base64')
      : undefined;
  const protectedHeaders = [
    `From: ${encodeAddress(input.from)}`,
    `To: ${input.to.map(encodeAddress).join(', ')}`,
    `Subject: ${encodeHeaderText(`REM ${input.event}: ${input.subject}`, 'Subject: '.length)}`,
    `Date: ${date.toUTCString().replace('GMT', '+0000')}`,
    `Message-ID: ${messageId}`,
    ...(input.inReplyTo ? [`In-Reply-To: ${input.inReplyTo}`, `References: ${input.inReplyTo}`] : []),
    `REM-MetadataVersion: ${REM_METADATA_VERSION}`,
    `REM-MessageType: ${input.messageType ?? (original ? 'Dispatch' : 'Receipt')}`,
    `REM-EventIdentifier: ${evidenceIdentifier(input.evidenceXml) ?? input.event}`,
    ...(digest ? [`REM-DigestAlgorithm: ${REM_DIGEST_ALGORITHM}`, `REM-DigestValue: ${digest}`] : []),
    ...(input.policies?.length ? [`REM-ApplicablePolicy: ${input.policies.join(' ')}`] : []),
    ...Object.entries(input.remHeaders ?? {}).map(
      ([k, v]) => `${remHeaderName(k)}: ${v.replace(/[\r\n]+/g, ' ')}`,
    ),
  ];
  // The REM-* metadata (and the addressing headers) are repeated in the header of the signed entity, as
  // RFC 9788 header protection does: the outer copies, which mail systems read and may rewrite, are not
  // covered by the S/MIME signature; the signed copies are, and a verifier compares the two. Threat: a
  // REM-DigestValue, REM-MessageType or REM-EventIdentifier changed in transit while the signature holds.
  const mixedBoundary = boundary();
  const signedEntity = entity(
    [
      `Content-Type: multipart/mixed; boundary="${mixedBoundary}"; hp="${input.headerProtection ?? 'clear'}"`,
      ...protectedHeaders,
    ],
    multipartBody(mixedBoundary, sections),
  );

  const signature = signCmsData({ content: signedEntity, signer: input.signer, signingTime: date });
  const signatureEntity = entity(
    [
      'Content-Type: application/pkcs7-signature; name="smime.p7s"',
      'Content-Transfer-Encoding: base64',
      'Content-Disposition: attachment; filename="smime.p7s"',
    ],
    foldBase64(signature),
  );
  const signedBoundary = boundary();
  const micalg = cmsSignatureScheme(input.signer.privateKey).micalg;
  const headers = [
    ...protectedHeaders,
    'MIME-Version: 1.0',
    `Content-Type: multipart/signed; protocol="application/pkcs7-signature"; micalg=${micalg}; boundary="${signedBoundary}"`,
  ];
  const raw = entity(
    headers,
    multipartBody(
      signedBoundary,
      [signedEntity, signatureEntity],
      'This is a cryptographically signed message in MIME format (S/MIME).',
    ),
  );
  return { raw, messageId };
}

/** A MIME entity: header lines, an empty line, the body. */
function entity(headers: readonly string[], body: Buffer | string): Buffer {
  return Buffer.concat([
    Buffer.from(headers.join(CRLF) + CRLF + CRLF, 'utf8'),
    Buffer.isBuffer(body) ? body : Buffer.from(body, 'utf8'),
  ]);
}

/**
 * A multipart body (RFC 2046 §5.1.1): each part after `--boundary CRLF`; the CRLF before a delimiter belongs
 * to the delimiter, so a part's bytes end where its entity ends (what the signature covers, exactly).
 */
function multipartBody(boundary: string, parts: readonly Buffer[], preamble?: string): Buffer {
  const chunks: Buffer[] = [];
  parts.forEach((part, i) => {
    const lead = i === 0 ? (preamble ? preamble + CRLF : '') : CRLF;
    chunks.push(Buffer.from(`${lead}--${boundary}${CRLF}`), part);
  });
  chunks.push(Buffer.from(`${CRLF}--${boundary}--${CRLF}`));
  return Buffer.concat(chunks);
}

/** A random boundary that occurs in none of the given contents (an original could hold any line). */
function uniqueBoundary(contents: Buffer[]): string {
  for (;;) {
    const candidate = `=_rem_${randomBytes(12).toString('hex')}`;
    if (!contents.some((c) => c.includes(candidate))) {
      contents.push(Buffer.from(candidate));
      return candidate;
    }
  }
}

/** Lines end with CRLF, as the canonical form of a signed entity must (RFC 8551 §3.1.1). */
function toCrlf(bytes: Buffer): Buffer {
  if (!bytes.includes(0x0a)) return bytes;
  const text = bytes.toString('latin1').replace(/\r?\n/g, CRLF);
  return Buffer.from(text, 'latin1');
}

function evidenceIdentifier(xml: string): string | undefined {
  return /<(?:\w+:)?EvidenceIdentifier>([^<]{1,200})<\//.exec(xml)?.[1]?.trim();
}

function remHeaderName(name: string): string {
  const bare = name.replace(/[^A-Za-z0-9-]/g, '');
  return bare.toLowerCase().startsWith('rem-') ? bare : `REM-${bare}`;
}
