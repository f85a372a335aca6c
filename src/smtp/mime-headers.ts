/**
 * Header encoding for the messages we write: RFC 2047 encoded-words for non-ASCII text (UTF-8, base64),
 * folded so that no line passes 78 characters (RFC 5322 §2.1.1), and base64 bodies in 76-character lines
 * (RFC 2045 §6.8).
 */

const CRLF = '\r\n';
const PRINTABLE_ASCII = /^[\x20-\x7e]*$/;
/** Raw bytes per encoded word: 45 → 60 base64 characters, +12 for `=?UTF-8?B?…?=` = 72 < 75 (RFC 2047 §2). */
const WORD_BYTES = 45;

/** Unstructured header text: as is when printable ASCII and short, else encoded-words folded with CRLF SP. */
export function encodeHeaderText(text: string, firstLineUsed = 0): string {
  const clean = text.replace(/[\r\n\t]+/g, ' ');
  if (PRINTABLE_ASCII.test(clean) && clean.length + firstLineUsed <= 998) return clean;
  const words: string[] = [];
  let chunk = '';
  for (const ch of clean) {
    // Never split a character's UTF-8 sequence across two words (RFC 2047 §5 (3)).
    if (Buffer.byteLength(chunk + ch, 'utf8') > WORD_BYTES) {
      words.push(chunk);
      chunk = '';
    }
    chunk += ch;
  }
  if (chunk) words.push(chunk);
  return words.map((w) => `=?UTF-8?B?${Buffer.from(w, 'utf8').toString('base64')}?=`).join(`${CRLF} `);
}

/** `name <address>` with the display name quoted or encoded; the bare address when there is no name. */
export function encodeAddress(mailbox: { readonly address: string; readonly name?: string }): string {
  const address = mailbox.address.replace(/[<>\r\n\s]/g, '');
  if (!mailbox.name) return `<${address}>`;
  const name = PRINTABLE_ASCII.test(mailbox.name)
    ? `"${mailbox.name.replace(/["\\]/g, '\\$&')}"`
    : encodeHeaderText(mailbox.name);
  return `${name} <${address}>`;
}

/** Base64 in lines of 76 characters, CRLF-terminated. */
export function foldBase64(bytes: Buffer): string {
  const b64 = bytes.toString('base64');
  const lines: string[] = [];
  for (let i = 0; i < b64.length; i += 76) lines.push(b64.slice(i, i + 76));
  return lines.join(CRLF) + CRLF;
}
