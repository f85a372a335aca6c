import type { X509Certificate } from 'node:crypto';
import { QerdsError } from '../core/index.js';
import { createMailInteropRegistry, encryptCms, type AlgorithmRegistry } from '../crypto/index.js';
import { foldBase64 } from './mime-headers.js';

const CRLF = '\r\n';

/**
 * How the REM Dispatch mail is encrypted, per recipient (config `deliveryEncryption`):
 * - `aes256-cbc`: CMS EnvelopedData, AES-256-CBC, RSA key transport RSAES-PKCS1-v1_5 (EC: ECDH), sent as
 *   `smime-type=enveloped-data` — the form Outlook (classic) and Thunderbird open. Sources: Outlook shows only
 *   the header of authEnveloped-data (jstedfast/MimeKit#1149, 2025: "no common client currently supports this
 *   algorithm"); `openssl smime -decrypt` (the PKCS#7 API) fails on RSA-OAEP key transport ("bad decrypt",
 *   OpenSSL 3.0, tried), Thunderbird's NSS (lib/smime/cmsrecinfo.c) gained RSA-OAEP only in recent releases and
 *   nextcloud/mail#12931 (2026) reports that OAEP "may break on the receiving side when it only expects the
 *   PKCS#1 v1.5 padding"; RFC 8551 §2.3 makes PKCS#1 v1.5 the MUST for receivers, OAEP only SHOULD+. So the
 *   key transport is v1.5: the one every S/MIME client decrypts. The algorithm registry allows CBC and v1.5
 *   for this use only (createMailInteropRegistry). It is the config default because a REM Dispatch goes to a person's
 *   mail client (Thunderbird, Outlook): one the recipient's client cannot open is not delivered in any useful sense.
 * - `aes256-gcm`: AuthEnvelopedData (below) — RFC 8551's preference, for recipients whose software reads it.
 */
export type RemEncryption = 'aes256-gcm' | 'aes256-cbc';

/**
 * S/MIME encryption of a signed REM message (RFC 8551 §3.7, signed then enveloped): the `multipart/signed`
 * entity becomes the content of a CMS AuthEnvelopedData (or EnvelopedData, `encryption: 'aes256-cbc'`) for
 * the recipients' certificates, sent as `application/pkcs7-mime; smime-type=authEnveloped-data`
 * (`enveloped-data`) (RFC 8551 §3.4). The message's own header fields
 * (From, To, Subject, Date, Message-ID, REM-*) stay outside so that mail systems can route and file it;
 * their signed copies are inside, under the signature (see buildRemMessage, `headerProtection: 'cipher'`).
 *
 * Without `encryption` (or `aes256-gcm`): AES-256-GCM in AuthEnvelopedData (RFC 5083/5084) and RSA key
 * transport RSAES-OAEP with SHA-256 (EC P-256 / X25519 certificates: ECDH key agreement), the one CMS builder
 * of src/crypto:
 * - RFC 8551 §2.7 makes AES-GCM a MUST for receiving agents; AES-CBC in EnvelopedData is malleable (EFAIL:
 *   a changed ciphertext block turns a decrypted mail into an exfiltration channel) and the default algorithm
 *   registry forbids producing it, as it forbids RSA PKCS#1 v1.5 key transport (Bleichenbacher oracles).
 * - OpenSSL 3 (`openssl cms -decrypt`), Bouncy Castle, and the qerds CLI open it. Outlook (classic) and
 *   Thunderbird do not open AuthEnvelopedData yet (see README, mail section): for them, `aes256-cbc`.
 * In the CBC form the signature inside is the only integrity protection: a reader must verify it (EFAIL).
 */
export async function encryptRemMessage(
  raw: Buffer,
  recipients: readonly X509Certificate[],
  options: { readonly registry?: AlgorithmRegistry; readonly encryption?: RemEncryption } = {},
): Promise<Buffer> {
  const end = raw.indexOf(`${CRLF}${CRLF}`);
  if (end < 0) throw new QerdsError('CONFIG_INVALID', 'not a MIME message: no end of header');
  const lines = raw
    .subarray(0, end)
    .toString('latin1')
    .split(/\r\n(?![ \t])/);
  const isMime = (line: string) => /^(content-[a-z-]+|mime-version):/i.test(line);
  const mimeLines = lines.filter((l) => /^content-[a-z-]+:/i.test(l));
  if (!mimeLines.some((l) => /^content-type:\s*multipart\/signed/i.test(l))) {
    throw new QerdsError(
      'CONFIG_INVALID',
      'only a signed REM message (multipart/signed) is encrypted: sign, then encrypt',
    );
  }
  // The inner entity: the multipart/signed with its own Content-* header fields, byte for byte.
  const inner = Buffer.concat([
    Buffer.from(mimeLines.join(CRLF) + CRLF + CRLF, 'latin1'),
    raw.subarray(end + 4),
  ]);
  const cbc = options.encryption === 'aes256-cbc';
  const cms = cbc
    ? await encryptCms(inner, recipients, {
        registry: options.registry ?? createMailInteropRegistry(),
        contentEncryption: 'aes256-cbc',
        rsaKeyTransport: 'rsaes-pkcs1-v1_5',
      })
    : await encryptCms(inner, recipients, options.registry ? { registry: options.registry } : {});
  const headers = [
    ...lines.filter((l) => !isMime(l)),
    'MIME-Version: 1.0',
    `Content-Type: application/pkcs7-mime; smime-type=${cbc ? 'enveloped-data' : 'authEnveloped-data'}; name="smime.p7m"`,
    'Content-Transfer-Encoding: base64',
    'Content-Disposition: attachment; filename="smime.p7m"',
  ];
  return Buffer.from(headers.join(CRLF) + CRLF + CRLF + foldBase64(cms), 'latin1');
}
