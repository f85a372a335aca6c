import { readFileSync } from 'node:fs';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { QerdsError } from '../../src/core/errors.js';
import { crlPem, importRsaSigningKey, issueCrl } from '../../src/pki/cert-factory.js';
import { x509 } from '../../src/pki/x509.js';
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
