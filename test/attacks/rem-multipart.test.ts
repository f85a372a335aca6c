import { describe, expect, it } from 'vitest';
import { loadTrustStore } from '../../src/pki/index.js';
import { verifyRemMessage } from '../../src/smtp/index.js';
import { sharedTestPki } from '../helpers/pki.js';

/**
 * A multipart delimiter line that never ends (no CRLF after `--boundary`, up to the end of the mail): the REM
 * verifier's multipart splitter took indexOf's -1 for "the next part starts at offset 1", found the first
 * delimiter again, and pushed parts until the heap was gone (a 4 GB test worker, found by the fuzz suite with a
 * random seed; the mail below is that input, reduced). It must give a verdict like any other malformed mail.
 */
const pki = sharedTestPki();
const trust = loadTrustStore([pki.caCert, pki.caCrl]);
const verify = (mail: string) =>
  verifyRemMessage(Buffer.from(mail, 'latin1'), {
    trust,
    verifyEvidence: async () => ({ valid: false }) as never,
  });

const head = [
  'MIME-Version: 1.0',
  'Subject: REM dispatch',
  'Content-Type: multipart/signed; protocol="application/pkcs7-signature"; micalg=sha-256; boundary="s"',
  '',
  '',
].join('\r\n');
const signedPart = ['--s', 'Content-Type: text/plain', '', 'hello'].join('\r\n');
const signaturePart = [
  '--s',
  'Content-Type: application/pkcs7-signature; name=smime.p7s',
  'Content-Transfer-Encoding: base64',
  '',
  'MIAGCSqGSIb3DQEHAqCAMIACAQExDzANBglghkgBZQMEAgEFADCABgkqhkiG9w0BBwEAAA==',
].join('\r\n');

describe('REM multipart whose delimiter line does not end', () => {
  it('after the last part (garbage instead of "--" and no CRLF): INVALID, the two parts read', async () => {
    const r = await verify(`${head}${signedPart}\r\n${signaturePart}\r\n--s\xe3>\xbbV`);
    expect(r.verdict).toBe('INVALID');
    // Both parts were found (the signature part was read and refused), not a part count of the runaway loop.
    expect(r.findings.map((f) => f.code)).toContain('REM_SIGNATURE_INVALID');
    expect(r.findings.map((f) => f.code)).not.toContain('REM_MALFORMED');
  });

  it('the first delimiter line is the whole body: INVALID REM_MALFORMED (no part)', async () => {
    const r = await verify(`${head}--s`);
    expect(r.verdict).toBe('INVALID');
    expect(r.findings.find((f) => f.code === 'REM_MALFORMED')?.message).toBe(
      'multipart/signed has 0 parts, expected 2',
    );
  });

  it('a delimiter without CRLF between the parts: INVALID, one part only', async () => {
    const r = await verify(`${head}${signedPart}\r\n--s`);
    expect(r.findings.find((f) => f.code === 'REM_MALFORMED')?.message).toBe(
      'multipart/signed has 1 parts, expected 2',
    );
  });
});
