import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { systemClock } from '../../src/core/ports.js';
import { isQerdsError } from '../../src/core/errors.js';
import {
  createSoftHsmSealToken,
  openPkcs11Signer,
  type Pkcs11Signer,
  type SoftHsmSealResult,
} from '../../src/pki/index.js';
import { sealEnvelopingCms, sealXml, verifyXmlSeal } from '../../src/seal/index.js';
import { loadTrustStore } from '../../src/pki/trust-store.js';
import { sharedTestPki } from '../helpers/pki.js';
import { xmlsecVerify } from '../helpers/xmlsec.js';
import { closePkcs11Module, findTokenSlot, openPkcs11Module } from '../../src/pki/pkcs11-signer.js';
import { createOnBehalfSealer } from '../../src/access-point/remote-seal-binding.js';
import { createFileBlobStore } from '../../src/store/file-blob-store.js';
import { createLocalTsaClient, createTimestampAuthority } from '../../src/timestamp/index.js';
import { loadSigningIdentity } from '../../src/pki/index.js';

const PIN = '4711-remote-seal';
const ids = { next: (prefix: string) => `${prefix}-${Math.random().toString(36).slice(2, 10)}` };
const INVOICE =
  '<Invoice xmlns="urn:oasis:names:specification:ubl:schema:xsd:Invoice-2"><ID>INV-1</ID><Amount>100</Amount></Invoice>';

/** `openssl cms -verify` of an enveloping CAdES file alone, against the CA: the content it prints, or the error. */
function opensslCmsVerify(der: Buffer, caFile: string): { ok: boolean; content: Buffer; output: string } {
  const dir = mkdtempSync(join(tmpdir(), 'qerds-p11-cms-'));
  writeFileSync(join(dir, 'sealed.p7m'), der);
  const r = spawnSync('openssl', [
    'cms',
    '-verify',
    '-binary',
    '-inform',
    'DER',
    '-in',
    join(dir, 'sealed.p7m'),
    '-CAfile',
    caFile,
    '-purpose',
    'any',
    '-out',
    join(dir, 'content'),
  ]);
  return {
    ok: r.status === 0,
    content: r.status === 0 ? readFileSync(join(dir, 'content')) : Buffer.alloc(0),
    output: `${r.stdout}${r.stderr}`,
  };
}

describe('PKCS#11 signer on a real softhsm2 token', () => {
  const pki = sharedTestPki();
  const dir = mkdtempSync(join(tmpdir(), 'qerds-softhsm-'));
  const tokens: Record<'rsa' | 'ec', SoftHsmSealResult | undefined> = { rsa: undefined, ec: undefined };
  const signers: Partial<Record<'rsa' | 'ec', Pkcs11Signer>> = {};

  beforeAll(async () => {
    // Both tokens exist before the module is first initialised by a signer: softhsm reads its slots then.
    for (const keyType of ['rsa', 'ec'] as const) {
      tokens[keyType] = await createSoftHsmSealToken({
        pkiDir: pki.dir,
        dir,
        sender: `0188:${keyType}`,
        tokenLabel: `sender-${keyType}`,
        keyLabel: `seal-${keyType}`,
        pin: PIN,
        soPin: 'so-4711',
        keyType,
      });
    }
    for (const keyType of ['rsa', 'ec'] as const) {
      const t = tokens[keyType]!;
      signers[keyType] = await openPkcs11Signer(
        { module: t.module, tokenLabel: `sender-${keyType}`, keyLabel: `seal-${keyType}`, pin: PIN },
        t.certificate,
      );
    }
  });
  afterAll(() => {
    for (const s of Object.values(signers)) s?.close();
  });

  it('generated the keys non-extractable and sensitive (read back from the token)', () => {
    for (const keyType of ['rsa', 'ec'] as const) {
      expect(signers[keyType]!.keyAttributes()).toEqual({
        extractable: false,
        sensitive: true,
        neverExtractable: true,
      });
      expect(signers[keyType]!.keyStore).toBe('pkcs11');
    }
  });

  it.each(['rsa', 'ec'] as const)(
    'XAdES seal with the %s token key verifies with xmlsec1 against the CA alone',
    async (keyType) => {
      const sealed = await sealXml(INVOICE, {
        identity: signers[keyType]!,
        clock: systemClock,
        idGenerator: ids,
      });
      const xmlsec = xmlsecVerify(sealed, pki.caCert);
      expect(xmlsec.output).toContain('OK');
      expect(xmlsec.ok).toBe(true);
      const ours = await verifyXmlSeal(sealed, { trust: loadTrustStore([pki.caCert]) });
      expect(ours.findings.filter((f) => f.severity === 'error')).toEqual([]);
      expect(ours.valid).toBe(true);
      // One changed byte of the content and xmlsec1 refuses it.
      expect(
        xmlsecVerify(sealed.replace('<Amount>100</Amount>', '<Amount>900</Amount>'), pki.caCert).ok,
      ).toBe(false);
    },
  );

  it.each(['rsa', 'ec'] as const)(
    'enveloping CAdES with the %s token key verifies with openssl cms alone',
    async (keyType) => {
      const content = Buffer.from('%PDF-1.7 binary \x00\x01\x02 invoice', 'binary');
      const sealed = await sealEnvelopingCms(content, { identity: signers[keyType]!, clock: systemClock });
      const openssl = opensslCmsVerify(sealed, pki.caCert);
      expect(openssl.output).toContain('Verification successful');
      expect(openssl.content.equals(content)).toBe(true);
    },
  );

  it('on-behalf sealer: seals unsealed XML (XAdES) and other content (CAdES), passes signed content unchanged', async () => {
    const blobs = createFileBlobStore(join(dir, 'blobs'));
    const tsa = createLocalTsaClient(
      createTimestampAuthority({ identity: loadSigningIdentity(pki.tsaCert, pki.tsaKey) }),
    );
    const sealer = createOnBehalfSealer({
      signers: new Map([['0188:rsa', signers.rsa!]]),
      blobs,
      tsa,
      clock: systemClock,
      ids,
    });
    const part = async (partId: string, contentType: string, body: Buffer | string) => ({
      partId,
      contentType,
      filename: `${partId}.bin`,
      ...(await blobs.put(Buffer.from(body))),
    });
    const alreadySealed = await sealXml(INVOICE, {
      identity: signers.ec!,
      clock: systemClock,
      idGenerator: ids,
    });
    const alreadySigned = await sealEnvelopingCms(Buffer.from('signed by C1'), {
      identity: signers.ec!,
      clock: systemClock,
    });
    const parts = [
      await part('xml', 'application/xml', INVOICE),
      await part('bin', 'application/pdf', '%PDF-1.7 receipt'),
      await part('not-xml', 'text/xml', '<unclosed'),
      await part('sealed', 'application/xml', alreadySealed),
      await part('signed', 'application/pkcs7-mime', alreadySigned),
    ];
    expect(await sealer.seal({ scheme: '0188', value: 'nobody' }, parts)).toBeUndefined();
    const out = await sealer.seal({ scheme: '0188', value: 'rsa' }, parts);
    const formats = out!.map((p) => p.sealedOnBehalf?.format);
    expect(formats).toEqual(['XAdES', 'CAdES', 'CAdES', undefined, undefined]);
    expect(out!.slice(3)).toEqual(parts.slice(3));
    expect(out![1]).toMatchObject({
      contentType: 'application/pkcs7-mime; smime-type=signed-data',
      filename: 'bin.bin.p7m',
    });
    expect(out![0]!.sealedOnBehalf!.submittedSha256).toBe(parts[0]!.sha256);
  });

  it('opens its session again when the token dropped it (HSM restart, fail-over) and keeps sealing', async () => {
    // Every session of the application on that token closed underneath the signer, as a token reset would.
    const p11 = openPkcs11Module(tokens.rsa!.module);
    try {
      p11.C_CloseAllSessions(findTokenSlot(p11, { module: tokens.rsa!.module, tokenLabel: 'sender-rsa' }));
    } finally {
      closePkcs11Module(tokens.rsa!.module);
    }
    const sealed = await sealXml(INVOICE, { identity: signers.rsa!, clock: systemClock, idGenerator: ids });
    expect(xmlsecVerify(sealed, pki.caCert).ok).toBe(true);
    expect(signers.rsa!.keyAttributes().extractable).toBe(false);
  });

  it('will not make a second token with a label already in the store', async () => {
    const err = await createSoftHsmSealToken({
      pkiDir: pki.dir,
      dir,
      sender: '0188:rsa',
      tokenLabel: 'sender-rsa',
      keyLabel: 'other',
      pin: PIN,
      soPin: 'so-4711',
    }).catch((e: unknown) => e);
    expect(isQerdsError(err, 'PKI_DIR_NOT_EMPTY')).toBe(true);
  });

  it('refuses a wrong PIN with PKI_PKCS11_PIN_INCORRECT', async () => {
    const t = tokens.rsa!;
    const err = await openPkcs11Signer(
      { module: t.module, tokenLabel: 'sender-rsa', keyLabel: 'seal-rsa', pin: 'wrong-pin' },
      t.certificate,
    ).catch((e: unknown) => e);
    expect(isQerdsError(err, 'PKI_PKCS11_PIN_INCORRECT')).toBe(true);
  });

  it('refuses a certificate that is not the token key’s, and an unknown key label', async () => {
    const mismatch = await openPkcs11Signer(
      { module: tokens.rsa!.module, tokenLabel: 'sender-rsa', keyLabel: 'seal-rsa', pin: PIN },
      tokens.ec!.certificate,
    ).catch((e: unknown) => e);
    expect(isQerdsError(mismatch, 'PKI_PKCS11_KEY_MISMATCH')).toBe(true);
    const missing = await openPkcs11Signer(
      { module: tokens.rsa!.module, tokenLabel: 'sender-rsa', keyLabel: 'nope', pin: PIN },
      tokens.rsa!.certificate,
    ).catch((e: unknown) => e);
    expect(isQerdsError(missing, 'PKI_PKCS11_KEY_NOT_FOUND')).toBe(true);
  });
});
