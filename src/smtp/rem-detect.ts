/*
 * Telling a REM message from other files by its header section, without loading the verifier (S/MIME, CMS
 * decryption): `qerds verify` loads rem-verify.ts only for a file this says is a REM message.
 */

export const PKCS7_MIME = /^Content-Type:\s*application\/(x-)?pkcs7-mime/im;

/** A REM message (EN 319 532-3) is RFC 5322 with REM-* metadata headers: recognised by its header section alone. */
export function isRemMessage(bytes: Buffer): boolean {
  const head = bytes.subarray(0, 65536).toString('latin1');
  const end = head.search(/\r?\n\r?\n/);
  const headers = end < 0 ? head : head.slice(0, end);
  return (
    /^REM-MetadataVersion:/im.test(headers) &&
    (/^Content-Type:\s*multipart\/signed/im.test(headers) || PKCS7_MIME.test(headers))
  );
}
