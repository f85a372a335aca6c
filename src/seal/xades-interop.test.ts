import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { sequentialIdGenerator } from '../core/ids.js';
import { loadSigningIdentity, loadTrustStore, type SigningIdentity, type TrustStore } from '../pki/index.js';
import { createLocalTsaClient, createTimestampAuthority } from '../timestamp/index.js';
import { sharedTestPki } from '../../test/helpers/pki.js';
import { opensslEcSeal, xmlsecSign, xmlsecVerify } from '../../test/helpers/xmlsec.js';
import { sealXml, verifyXmlSeal } from './index.js';

const fixture = readFileSync(
  new URL('../../test/fixtures/seal/sample-document.xml', import.meta.url),
  'utf8',
);
const clock = { now: () => new Date() };

describe('XAdES interop with independent tools', () => {
  let pki: ReturnType<typeof sharedTestPki>;
  let trust: TrustStore;
  let ecFiles: { certFile: string; keyFile: string };
  let ec: SigningIdentity;

  beforeAll(() => {
    pki = sharedTestPki();
    trust = loadTrustStore([pki.caCert]);
    ecFiles = opensslEcSeal(pki, 'Test AP EC interop');
    ec = loadSigningIdentity(ecFiles.certFile, ecFiles.keyFile);
  });

  it('verifies a signature whose digests and ECDSA value xmlsec1 computed', async () => {
    const ours = await sealXml(fixture, { identity: ec, clock, idGenerator: sequentialIdGenerator() });
    // A template: our structure with the SignedInfo digests and the SignatureValue left for xmlsec1 to fill.
    const template = ours
      .replace(/<ds:SignedInfo>[\s\S]*<\/ds:SignedInfo>/, (si) =>
        si.replace(/<ds:DigestValue>[^<]*<\/ds:DigestValue>/g, '<ds:DigestValue></ds:DigestValue>'),
      )
      .replace(/(<ds:SignatureValue[^>]*>)[^<]*/, '$1');
    const signed = xmlsecSign(template, ecFiles.keyFile, ecFiles.certFile);
    expect(signed).not.toContain('<ds:DigestValue></ds:DigestValue>');
    const value = /<ds:SignatureValue[^>]*>([^<]+)</.exec(signed)?.[1]?.replace(/\s/g, '') ?? '';
    expect(Buffer.from(value, 'base64')).toHaveLength(64); // r || s of P-256, as XMLDSig 1.1 asks
    expect(value).not.toBe(/<ds:SignatureValue[^>]*>([^<]+)</.exec(ours)?.[1]); // ECDSA: another value
    const v = await verifyXmlSeal(signed, { trust });
    expect(v.findings.filter((f) => f.severity === 'error')).toEqual([]);
    expect(v).toMatchObject({ valid: true, level: 'B-B' });
  });

  it('B-T with the embedded TSA of src/timestamp: xmlsec1 accepts, openssl ts verifies the token', async () => {
    const tsaIdentity = loadSigningIdentity(pki.tsaCert, pki.tsaKey);
    const tsa = createLocalTsaClient(createTimestampAuthority({ identity: tsaIdentity }));
    const signed = await sealXml(fixture, { identity: ec, tsa, clock, idGenerator: sequentialIdGenerator() });
    expect(xmlsecVerify(signed, pki.caCert).ok).toBe(true);
    const v = await verifyXmlSeal(signed, { trust });
    expect(v.findings.filter((f) => f.severity === 'error')).toEqual([]);
    expect(v.level).toBe('B-T');

    const m = /<ds:SignatureValue Id="([^"]+)">([^<]+)<\/ds:SignatureValue>/.exec(signed);
    const dir = mkdtempSync(join(tmpdir(), 'qerds-seal-ts-'));
    writeFileSync(
      join(dir, 'data'),
      `<ds:SignatureValue xmlns:ds="http://www.w3.org/2000/09/xmldsig#" Id="${m?.[1]}">${m?.[2]}</ds:SignatureValue>`,
    );
    writeFileSync(
      join(dir, 'token.der'),
      Buffer.from(/<xades:EncapsulatedTimeStamp>([^<]+)</.exec(signed)?.[1] ?? '', 'base64'),
    );
    const out = execFileSync(
      'openssl',
      [
        'ts',
        '-verify',
        '-data',
        join(dir, 'data'),
        '-in',
        join(dir, 'token.der'),
        '-token_in',
        '-CAfile',
        pki.caCert,
      ],
      {
        encoding: 'utf8',
        stdio: 'pipe',
      },
    );
    expect(out).toContain('Verification: OK');
  });

  it('a timestamp from a TSA outside the trust store does not make B-T', async () => {
    const signed = await sealXml(fixture, {
      identity: ec,
      tsa: createLocalTsaClient(
        createTimestampAuthority({ identity: loadSigningIdentity(pki.tsaCert, pki.tsaKey) }),
      ),
      clock,
      idGenerator: sequentialIdGenerator(),
    });
    // Trust only the signer's own certificate as an anchor: the signer path holds, the TSA's does not.
    const v = await verifyXmlSeal(signed, { trust: loadTrustStore([ecFiles.certFile]) });
    expect(v.timestamp?.valid).toBe(false);
    expect(v.findings.map((f) => f.code)).toContain('SEAL_TIMESTAMP_INVALID');
    expect(v.valid).toBe(false);
  });
});
