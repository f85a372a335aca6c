import { execFileSync, spawnSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import type { TsaClient } from '../../src/core/ports.js';
import {
  derChildren,
  derOid,
  loadSigningIdentity,
  loadTrustStore,
  readDerElement,
  type DerElement,
  type SigningIdentity,
  type TrustStore,
} from '../../src/pki/index.js';
import { sealDetachedCms, verifyDetachedCms } from '../../src/seal/index.js';
import { createLocalTsaClient, createTimestampAuthority } from '../../src/timestamp/index.js';
import { sharedTestPki } from '../helpers/pki.js';
import { opensslEcSeal } from '../helpers/xmlsec.js';

const clock = { now: () => new Date() };

/** The SignerInfo's signature value and the signature-time-stamp token, found by walking the DER. */
function signatureAndToken(cms: Buffer): { signature: Buffer; token?: Buffer } {
  const sd = derChildren(derChildren(derChildren(readDerElement(cms))[1] as DerElement)[0] as DerElement);
  const si = derChildren(derChildren(sd.at(-1) as DerElement)[0] as DerElement);
  const signature = Buffer.from((si.find((e) => e.tag === 0x04) as DerElement).content);
  const unsigned = si.find((e) => e.tag === 0xa1);
  const attr = unsigned
    ? derChildren(unsigned).find(
        (a) => derOid(derChildren(a)[0] as DerElement) === '1.2.840.113549.1.9.16.2.14',
      )
    : undefined;
  const token = attr
    ? Buffer.from((derChildren(derChildren(attr)[1] as DerElement)[0] as DerElement).bytes)
    : undefined;
  return { signature, ...(token ? { token } : {}) };
}

describe('CAdES detached B-B / B-T (EN 319 122-1) for binary payloads, checked with openssl cms', () => {
  const dir = mkdtempSync(join(tmpdir(), 'qerds-cades-'));
  const payload = randomBytes(64 * 1024);
  const payloadFile = join(dir, 'payload.bin');
  let pki: ReturnType<typeof sharedTestPki>;
  let rsa: SigningIdentity;
  let ec: SigningIdentity;
  let trust: TrustStore;
  let tsa: TsaClient;
  const opensslVerify = (cms: Buffer, content = payloadFile) => {
    writeFileSync(join(dir, 'sig.p7s'), cms);
    return spawnSync(
      'openssl',
      [
        'cms',
        '-verify',
        '-binary',
        '-inform',
        'DER',
        '-in',
        join(dir, 'sig.p7s'),
        '-content',
        content,
        '-CAfile',
        pki.caCert,
        '-purpose',
        'any',
        '-out',
        '/dev/null',
      ],
      { encoding: 'utf8' },
    );
  };

  beforeAll(() => {
    pki = sharedTestPki();
    writeFileSync(payloadFile, payload);
    rsa = loadSigningIdentity(pki.ap('c2').sealCert, pki.ap('c2').sealKey);
    const ecFiles = opensslEcSeal(pki, 'CAdES EC e-seal');
    ec = loadSigningIdentity(ecFiles.certFile, ecFiles.keyFile);
    trust = loadTrustStore([pki.caCert, pki.caCrl]);
    tsa = createLocalTsaClient(
      createTimestampAuthority({ identity: loadSigningIdentity(pki.tsaCert, pki.tsaKey) }),
    );
  });

  it('RSA B-B: openssl cms -verify accepts it, and so do we', async () => {
    const cms = await sealDetachedCms(payload, { identity: rsa, clock });
    const r = opensslVerify(cms);
    expect(r.stderr).toContain('Verification successful');
    expect(r.status).toBe(0);
    const v = await verifyDetachedCms(cms, { content: payload, trust });
    expect(v.findings.filter((f) => f.severity === 'error')).toEqual([]);
    expect(v).toMatchObject({ valid: true, level: 'B-B' });
    expect(v.signer?.fingerprint256).toBe(rsa.certificate.fingerprint256);
  });

  it('ECDSA P-256 B-T from a streamed digest: openssl cms and openssl ts verify; we see B-T', async () => {
    const cms = await sealDetachedCms(
      { sha256: createHash('sha256').update(payload).digest() },
      { identity: ec, clock, tsa },
    );
    expect(opensslVerify(cms).status).toBe(0);
    const { signature, token } = signatureAndToken(cms);
    expect(token).toBeDefined();
    writeFileSync(join(dir, 'sigvalue'), signature);
    writeFileSync(join(dir, 'token.der'), token as Buffer);
    const ts = execFileSync(
      'openssl',
      [
        'ts',
        '-verify',
        '-data',
        join(dir, 'sigvalue'),
        '-in',
        join(dir, 'token.der'),
        '-token_in',
        '-CAfile',
        pki.caCert,
        '-untrusted',
        pki.tsaCert,
      ],
      { encoding: 'utf8' },
    );
    expect(ts).toContain('Verification: OK');
    const v = await verifyDetachedCms(cms, { content: payload, trust });
    expect(v.findings.filter((f) => f.severity === 'error')).toEqual([]);
    expect(v).toMatchObject({ valid: true, level: 'B-T', timestamp: { valid: true } });
  });

  it('one changed byte in the payload, the signature or the token: openssl and we refuse', async () => {
    const cms = await sealDetachedCms(payload, { identity: rsa, clock, tsa });
    const changed = Buffer.from(payload);
    changed[1000] = (changed[1000] as number) ^ 0x01;
    writeFileSync(join(dir, 'changed.bin'), changed);
    expect(opensslVerify(cms, join(dir, 'changed.bin')).status).not.toBe(0);
    const v1 = await verifyDetachedCms(cms, { content: changed, trust });
    expect(v1.valid).toBe(false);
    expect(v1.findings.map((f) => f.code)).toContain('SEAL_DIGEST_MISMATCH');

    const { signature, token } = signatureAndToken(cms);
    const badSig = Buffer.from(cms);
    const at = cms.indexOf(signature) + 10;
    badSig[at] = (badSig[at] as number) ^ 0x01;
    expect(opensslVerify(badSig).status).not.toBe(0);
    const v2 = await verifyDetachedCms(badSig, { content: payload, trust });
    expect(v2.findings.map((f) => f.code)).toEqual(
      expect.arrayContaining(['SEAL_SIGNATURE_INVALID', 'SEAL_TIMESTAMP_HASH_FAILURE']),
    );

    const badToken = Buffer.from(cms);
    const t = cms.indexOf(token as Buffer) + (token as Buffer).length - 10;
    badToken[t] = (badToken[t] as number) ^ 0x01;
    // The token is an unsigned attribute: outside what openssl cms checks, but not outside what we check.
    expect(opensslVerify(badToken).status).toBe(0);
    const v3 = await verifyDetachedCms(badToken, { content: payload, trust });
    expect(v3.valid).toBe(false);
    expect(v3.findings.map((f) => f.code)).toContain('SEAL_TIMESTAMP_SIG_FAILURE');
  });

  it('verifies a CAdES signature made by openssl cms -sign -cades (not our code)', async () => {
    execFileSync('openssl', [
      'cms',
      '-sign',
      '-binary',
      '-cades',
      '-md',
      'sha256',
      '-in',
      payloadFile,
      '-signer',
      pki.ap('c3').sealCert,
      '-inkey',
      pki.ap('c3').sealKey,
      '-outform',
      'DER',
      '-out',
      join(dir, 'openssl.p7s'),
    ]);
    const cms = readFileSync(join(dir, 'openssl.p7s'));
    const v = await verifyDetachedCms(cms, { content: payload, trust });
    expect(v.findings.filter((f) => f.severity === 'error')).toEqual([]);
    expect(v).toMatchObject({ valid: true, level: 'B-B' });
    expect((await verifyDetachedCms(cms, { content: Buffer.from('other'), trust })).valid).toBe(false);
  });
});
