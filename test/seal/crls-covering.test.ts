import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { QerdsError } from '../../src/core/errors.js';
import { crlPem, importRsaSigningKey, issueCrl } from '../../src/pki/cert-factory.js';
import { x509 } from '../../src/pki/x509.js';
import { parseCrlDer } from '../../src/pki/index.js';
import { rememberedCrlBase64, rememberedCrlParse, rememberedPemCrls } from '../../src/seal/crl-memo.js';
import { crlsCovering } from '../../src/seal/xades-augment.js';
import { devTestPki } from '../helpers/pki.js';

/**
 * The CRLs a B-LT seal embeds (crlsCovering), given as a DER buffer, PEM text or PEM in a buffer: the same DER
 * each way. A DER buffer is taken as it is without being searched as text (a byte search for the PEM marker).
 */
const DAY = 86_400_000;
let pem: string;
let der: Buffer;
let stalePem: string;

beforeAll(async () => {
  const pki = await devTestPki(join(mkdtempSync(join(tmpdir(), 'qerds-crls-covering-')), 'pki'), {
    recipients: [],
  });
  pem = readFileSync(pki.caCrl, 'utf8');
  der = Buffer.from(pem.replace(/-----[^-]+-----|\s+/g, ''), 'base64');
  const signer = {
    cert: new x509.X509Certificate(readFileSync(pki.caCert, 'utf8')),
    signingKey: await importRsaSigningKey(readFileSync(pki.caKey, 'utf8')),
  };
  stalePem = crlPem(
    await issueCrl(signer, {
      crlNumber: 9n,
      thisUpdate: new Date(Date.now() - 40 * DAY),
      nextUpdate: new Date(Date.now() - 10 * DAY),
      entries: [],
    }),
  );
}, 120_000);

describe('crlsCovering', () => {
  it('gives the same DER for a DER buffer, PEM text and PEM in a buffer, in order, the stale one left out', () => {
    const now = new Date();
    const hex = (list: Buffer[]) => list.map((b) => b.toString('hex'));
    expect(hex(crlsCovering([der], now))).toEqual([der.toString('hex')]);
    expect(hex(crlsCovering([pem], now))).toEqual([der.toString('hex')]);
    expect(hex(crlsCovering([Buffer.from(pem)], now))).toEqual([der.toString('hex')]);
    // Two PEM blocks in one buffer: both read, the stale one then dropped.
    expect(hex(crlsCovering([Buffer.from(stalePem + pem)], now))).toEqual([der.toString('hex')]);
    expect(hex(crlsCovering([der, pem], now))).toEqual([der.toString('hex'), der.toString('hex')]);
  });

  it('refuses when none covers the signing time, and a buffer that is neither DER CRL nor PEM', () => {
    const stale = Buffer.from(stalePem.replace(/-----[^-]+-----|\s+/g, ''), 'base64');
    expect(() => crlsCovering([stale], new Date())).toThrow(
      expect.objectContaining({ code: 'SEAL_REVOCATION_STALE' }),
    );
    expect(() => crlsCovering([Buffer.from('not a CRL')], new Date())).toThrow(QerdsError);
    expect(() => crlsCovering(['no PEM here'], new Date())).toThrow(
      expect.objectContaining({ code: 'SEAL_MALFORMED' }),
    );
  });
});

describe('crl-memo (what B-LT seals remember of each CRL between seals)', () => {
  it('a DER buffer changed in place is read afresh: its base64 and parse are of the new octets', () => {
    const buffer = Buffer.from(der);
    const before = rememberedCrlBase64(buffer);
    const parsedBefore = rememberedCrlParse(buffer);
    expect(before).toBe(der.toString('base64'));
    expect(rememberedCrlBase64(buffer)).toBe(before);
    expect(rememberedCrlParse(buffer)).toBe(parsedBefore);
    // The last octet is in the signature BIT STRING: still a CertificateList, another one.
    buffer.writeUInt8(buffer.readUInt8(buffer.length - 1) ^ 0xff, buffer.length - 1);
    expect(rememberedCrlBase64(buffer)).toBe(buffer.toString('base64'));
    expect(rememberedCrlBase64(buffer)).not.toBe(before);
    const parsedAfter = rememberedCrlParse(buffer);
    expect(parsedAfter).not.toBe(parsedBefore);
    expect(parsedAfter).toBe(parseCrlDer(Buffer.from(buffer)));
  });

  it('a PEM text gives the same DER each time, and a handed-out DER changed in place is not handed out again', () => {
    const decode = (text: string) => [Buffer.from(text.replace(/-----[^-]+-----|\s+/g, ''), 'base64')];
    const first = rememberedPemCrls(pem, decode);
    expect(first.map((b) => b.toString('hex'))).toEqual([der.toString('hex')]);
    expect(rememberedPemCrls(pem, decode)).toBe(first);
    first[0]!.writeUInt8(first[0]!.readUInt8(10) ^ 0xff, 10);
    const again = rememberedPemCrls(pem, decode);
    expect(again).not.toBe(first);
    expect(again.map((b) => b.toString('hex'))).toEqual([der.toString('hex')]);
    // Another text is its own key.
    expect(rememberedPemCrls(stalePem, decode)[0]!.equals(der)).toBe(false);
  });
});
