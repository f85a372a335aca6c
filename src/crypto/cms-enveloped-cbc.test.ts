import { spawnSync } from 'node:child_process';
import { constants, publicEncrypt, randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { cmsRecipients, type CmsRecipient, type CmsRecipients } from '../../test/helpers/cms-recipients.js';
import {
  createAlgorithmRegistry,
  createMailInteropRegistry,
  decryptCms,
  decryptCmsDetailed,
  encryptCms,
  cmsRecipientsOf,
} from './index.js';

const fails = (code: string) => expect.objectContaining({ name: 'QerdsError', code });
const opening = (r: CmsRecipient) => ({ privateKey: r.privateKey, certificate: r.certificate });
const cbc = { contentEncryption: 'aes256-cbc', rsaKeyTransport: 'rsaes-pkcs1-v1_5' } as const;

/**
 * EnvelopedData AES-256-CBC with RSA PKCS#1 v1.5 key transport: the S/MIME mail-client form. Produced and
 * read only with the mail-interop registry; the default registry refuses it both ways.
 */
describe('CMS EnvelopedData (AES-256-CBC) for mail interop', () => {
  let r: CmsRecipients;
  const plaintext = Buffer.concat([Buffer.from('qerds-ap REM plaintext marker '), randomBytes(5_000)]);
  beforeAll(async () => {
    r = await cmsRecipients();
  });

  it('round-trips for RSA (PKCS#1 v1.5) and EC P-256 (ECDH) recipients with the mail-interop registry', async () => {
    const registry = createMailInteropRegistry();
    const der = await encryptCms(plaintext, [r.alice.certificate, r.ec.certificate], { ...cbc, registry });
    expect(der.includes(plaintext.subarray(0, 30))).toBe(false);
    const rsa = decryptCmsDetailed(der, { ...opening(r.alice), registry });
    expect(rsa).toMatchObject({
      plaintext,
      contentEncryption: 'aes256-cbc',
      keyManagement: 'rsaes-pkcs1-v1_5',
    });
    expect(decryptCmsDetailed(der, { ...opening(r.ec), registry }).plaintext).toEqual(plaintext);
    expect(cmsRecipientsOf(der)).toHaveLength(2);
  });

  it('the default registry refuses to produce or read it (the allowance is mail-only)', async () => {
    await expect(encryptCms(plaintext, [r.alice.certificate], cbc)).rejects.toThrow(
      fails('CRYPTO_ALGORITHM_FORBIDDEN'),
    );
    // CBC allowed but PKCS#1 v1.5 not: refused at the key transport.
    const cbcOnly = createAlgorithmRegistry({ statusOverrides: { '2.16.840.1.101.3.4.1.42': 'allowed' } });
    await expect(encryptCms(plaintext, [r.alice.certificate], { ...cbc, registry: cbcOnly })).rejects.toThrow(
      fails('CRYPTO_ALGORITHM_FORBIDDEN'),
    );
    const der = await encryptCms(plaintext, [r.alice.certificate], {
      ...cbc,
      registry: createMailInteropRegistry(),
    });
    expect(() => decryptCms(der, opening(r.alice))).toThrow(fails('CRYPTO_ALGORITHM_FORBIDDEN'));
    await expect(
      encryptCms(plaintext, [r.alice.certificate], {
        ...cbc,
        registry: createMailInteropRegistry(),
        authenticatedAttributes: [{ type: '1.2.3', values: [Buffer.from([5, 0])] }],
      }),
    ).rejects.toThrow(fails('CRYPTO_UNSUPPORTED_ALGORITHM'));
  });

  it('a malformed PKCS#1 v1.5 key block is rejected implicitly (RFC 3218): a random key, never a padding error', async () => {
    const registry = createMailInteropRegistry();
    const der = await encryptCms(plaintext, [r.alice.certificate], { ...cbc, registry });
    // Find the 256-octet encryptedKey (OCTET STRING, 04 82 01 00) and replace it with a block whose padding is wrong:
    // the 32-octet "key" encrypted with no PKCS#1 structure at all (raw RSA of a random number).
    const at = der.indexOf(Buffer.from([0x04, 0x82, 0x01, 0x00])) + 4;
    expect(at).toBeGreaterThan(4);
    const modulus = Buffer.from(r.alice.certificate.publicKey.export({ format: 'jwk' }).n ?? '', 'base64url');
    const block = randomBytes(256);
    block[0] = 0;
    block[1] = 0x01; // block type 1 (signature padding), not 2
    expect(block.compare(modulus)).toBeLessThan(0);
    const forged = Buffer.from(der);
    publicEncrypt({ key: r.alice.certificate.publicKey, padding: constants.RSA_NO_PADDING }, block).copy(
      forged,
      at,
    );
    // A random key fails at the CBC padding (255 times in 256: CRYPTO_DECRYPT_FAILED, the same error as any bad
    // ciphertext) or yields noise — for REM mail the signature inside then fails. Never the plaintext.
    let outcome: unknown;
    try {
      outcome = decryptCms(forged, { ...opening(r.alice), registry });
    } catch (e) {
      outcome = e;
    }
    if (Buffer.isBuffer(outcome)) expect(outcome.equals(plaintext)).toBe(false);
    else expect(outcome).toEqual(fails('CRYPTO_DECRYPT_FAILED'));
  });

  it("reads what `openssl cms -encrypt -aes-256-cbc` writes by default (RSA PKCS#1 v1.5): the clients' form", () => {
    const dir = mkdtempSync(join(tmpdir(), 'qerds-cbc-'));
    writeFileSync(join(dir, 'in.bin'), plaintext);
    const made = spawnSync('openssl', [
      'cms',
      '-encrypt',
      '-binary',
      '-aes-256-cbc',
      '-outform',
      'DER',
      '-in',
      join(dir, 'in.bin'),
      '-out',
      join(dir, 'out.der'),
      r.alice.certFile,
    ]);
    expect(made.status, made.stderr.toString()).toBe(0);
    const der = readFileSync(join(dir, 'out.der'));
    const result = decryptCmsDetailed(der, { ...opening(r.alice), registry: createMailInteropRegistry() });
    expect(result).toMatchObject({
      plaintext,
      contentEncryption: 'aes256-cbc',
      keyManagement: 'rsaes-pkcs1-v1_5',
    });
  });
});
