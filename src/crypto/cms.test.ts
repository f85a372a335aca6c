import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { beforeAll, describe, expect, it } from 'vitest';
import { cmsRecipients, type CmsRecipient, type CmsRecipients } from '../../test/helpers/cms-recipients.js';
import { cmsLayout, encryptedContentOf, replaceEncryptedContent } from '../../test/helpers/cms-tamper.js';
import { createAlgorithmRegistry, decryptCms, decryptCmsDetailed, encryptCms, CMS_OID } from './index.js';

const fails = (code: string) => expect.objectContaining({ name: 'QerdsError', code });
const opening = (r: CmsRecipient) => ({ privateKey: r.privateKey, certificate: r.certificate });

describe('CMS AuthEnvelopedData (AES-256-GCM)', () => {
  let r: CmsRecipients;
  const plaintext = Buffer.concat([Buffer.from('qerds-ap E2E plaintext marker '), randomBytes(70_000)]);
  beforeAll(async () => {
    r = await cmsRecipients();
  });

  it.each([
    ['RSA (RSAES-OAEP-SHA256)', 'alice', 'rsaes-oaep'],
    ['EC P-256 (ECDH, X9.63-SHA256 KDF)', 'ec', 'ecdh-x963-sha256'],
    ['X25519 (RFC 8418, HKDF-SHA256)', 'x25519', 'ecdh-hkdf-sha256'],
  ] as const)('encrypts and decrypts for %s', async (_label, name, keyManagement) => {
    const der = await encryptCms(plaintext, [r[name].certificate]);
    expect(der.includes(plaintext.subarray(0, 30))).toBe(false);
    const result = decryptCmsDetailed(der, opening(r[name]));
    expect(result.plaintext).toEqual(plaintext);
    expect(result.contentEncryption).toBe('aes256-gcm');
    expect(result.keyManagement).toBe(keyManagement);
  });

  it('encrypts once for several recipients of every key type; each one decrypts', async () => {
    const all = [r.alice, r.bob, r.ec, r.ec2, r.x25519];
    const der = await encryptCms(
      plaintext,
      all.map((x) => x.certificate),
    );
    for (const recipient of all) expect(decryptCms(der, opening(recipient))).toEqual(plaintext);
  });

  it('encrypts a stream and the empty message', async () => {
    const chunks = [
      plaintext.subarray(0, 1000),
      plaintext.subarray(1000, 50_000),
      plaintext.subarray(50_000),
    ];
    const der = await encryptCms(Readable.from(chunks), [r.ec.certificate]);
    expect(decryptCms(der, opening(r.ec))).toEqual(plaintext);
    const empty = await encryptCms(Buffer.alloc(0), [r.alice.certificate]);
    expect(decryptCms(empty, opening(r.alice))).toEqual(Buffer.alloc(0));
  });

  it('identifies recipients by subjectKeyIdentifier when asked', async () => {
    const der = await encryptCms(plaintext, [r.alice.certificate, r.ec.certificate], {
      useSubjectKeyIdentifier: true,
    });
    expect(decryptCms(der, opening(r.alice))).toEqual(plaintext);
    expect(decryptCms(der, opening(r.ec))).toEqual(plaintext);
    expect(() => decryptCms(der, opening(r.bob))).toThrow(fails('CRYPTO_NO_MATCHING_RECIPIENT'));
  });

  it('covers authenticated attributes by the tag and returns them', async () => {
    const value = Buffer.from('0c0a6d6573736167652d3432', 'hex'); // UTF8String "message-42"
    const der = await encryptCms(plaintext, [r.alice.certificate], {
      authenticatedAttributes: [{ type: '1.2.3.4.5', values: [value] }],
    });
    const result = decryptCmsDetailed(der, opening(r.alice));
    expect(result.authenticatedAttributes).toEqual([{ type: '1.2.3.4.5', values: [value] }]);
    const at = der.indexOf(Buffer.from('message-42'));
    const altered = Buffer.from(der);
    altered[at] = 0x4d; // 'M'
    expect(() => decryptCms(altered, opening(r.alice))).toThrow(fails('CRYPTO_DECRYPT_FAILED'));
  });

  describe('failures are clean: a stable code and no plaintext', () => {
    let forAlice: Buffer;
    let forEc: Buffer;
    let forX: Buffer;
    beforeAll(async () => {
      forAlice = await encryptCms(plaintext, [r.alice.certificate]);
      forEc = await encryptCms(plaintext, [r.ec.certificate]);
      forX = await encryptCms(plaintext, [r.x25519.certificate]);
    });

    it('wrong private key for the addressed certificate → CRYPTO_DECRYPT_FAILED', () => {
      expect(() =>
        decryptCms(forAlice, { privateKey: r.bob.privateKey, certificate: r.alice.certificate }),
      ).toThrow(fails('CRYPTO_DECRYPT_FAILED'));
      expect(() =>
        decryptCms(forEc, { privateKey: r.ec2.privateKey, certificate: r.ec.certificate }),
      ).toThrow(fails('CRYPTO_DECRYPT_FAILED'));
      const otherX = generateKeyPairSync('x25519').privateKey;
      expect(() => decryptCms(forX, { privateKey: otherX, certificate: r.x25519.certificate })).toThrow(
        fails('CRYPTO_DECRYPT_FAILED'),
      );
    });

    it('a certificate the message is not for → CRYPTO_NO_MATCHING_RECIPIENT', () => {
      expect(() => decryptCms(forAlice, opening(r.bob))).toThrow(fails('CRYPTO_NO_MATCHING_RECIPIENT'));
      expect(() => decryptCms(forEc, opening(r.ec2))).toThrow(fails('CRYPTO_NO_MATCHING_RECIPIENT'));
    });

    it('a truncated file → CRYPTO_MALFORMED; a shortened ciphertext with consistent lengths → CRYPTO_DECRYPT_FAILED', () => {
      for (const cut of [1, 17, 1000, forAlice.length - 10]) {
        expect(() => decryptCms(forAlice.subarray(0, forAlice.length - cut), opening(r.alice))).toThrow(
          fails('CRYPTO_MALFORMED'),
        );
      }
      const content = encryptedContentOf(forEc);
      const shortened = replaceEncryptedContent(forEc, content.subarray(0, content.length - 1));
      expect(() => decryptCms(shortened, opening(r.ec))).toThrow(fails('CRYPTO_DECRYPT_FAILED'));
      // The re-encoding itself is faithful: with the content unchanged it still decrypts.
      expect(decryptCms(replaceEncryptedContent(forEc, content), opening(r.ec))).toEqual(plaintext);
    });

    it.each(['first', 'middle', 'last'] as const)(
      'one altered ciphertext byte (%s) → CRYPTO_DECRYPT_FAILED',
      (where) => {
        const { contentStart, contentEnd } = cmsLayout(forX);
        const at =
          where === 'first'
            ? contentStart
            : where === 'last'
              ? contentEnd - 1
              : (contentStart + contentEnd) >> 1;
        const altered = Buffer.from(forX);
        altered[at] = (altered[at] ?? 0) ^ 0x01;
        expect(() => decryptCms(altered, opening(r.x25519))).toThrow(fails('CRYPTO_DECRYPT_FAILED'));
      },
    );

    it('an altered tag → CRYPTO_DECRYPT_FAILED; a tag of the wrong length → CRYPTO_MALFORMED', () => {
      const { macStart, macEnd } = cmsLayout(forAlice);
      expect(macEnd - macStart).toBe(16);
      for (const at of [macStart, macEnd - 1]) {
        const altered = Buffer.from(forAlice);
        altered[at] = (altered[at] ?? 0) ^ 0x80;
        expect(() => decryptCms(altered, opening(r.alice))).toThrow(fails('CRYPTO_DECRYPT_FAILED'));
      }
      const shortTag = Buffer.from(forAlice);
      shortTag[macStart - 1] = 15; // OCTET STRING length 15, one octet left over
      expect(() => decryptCms(shortTag, opening(r.alice))).toThrow(fails('CRYPTO_MALFORMED'));
    });

    it('an altered nonce or wrapped key → CRYPTO_DECRYPT_FAILED', () => {
      const nonceAt = forEc.indexOf(Buffer.from('060960864801650304012e', 'hex')); // id-aes256-GCM
      expect(nonceAt).toBeGreaterThan(0);
      const altered = Buffer.from(forEc);
      const nonceValue = nonceAt + 11 + 2 + 2; // OID, SEQUENCE header, OCTET STRING header
      altered[nonceValue] = (altered[nonceValue] ?? 0) ^ 1;
      expect(() => decryptCms(altered, opening(r.ec))).toThrow(fails('CRYPTO_DECRYPT_FAILED'));
      const wrappedAt = forEc.indexOf(Buffer.from([0x04, 40])) + 2; // the 40-octet AES-wrapped CEK
      const badWrap = Buffer.from(forEc);
      badWrap[wrappedAt + 3] = (badWrap[wrappedAt + 3] ?? 0) ^ 1;
      expect(() => decryptCms(badWrap, opening(r.ec))).toThrow(fails('CRYPTO_DECRYPT_FAILED'));
    });

    it('data that is not AuthEnvelopedData, or has trailing bytes → CRYPTO_MALFORMED', () => {
      expect(() => decryptCms(randomBytes(500), opening(r.alice))).toThrow(fails('CRYPTO_MALFORMED'));
      expect(() => decryptCms(Buffer.concat([forAlice, Buffer.from([0])]), opening(r.alice))).toThrow(
        fails('CRYPTO_MALFORMED'),
      );
      expect(() => decryptCms(Buffer.alloc(0), opening(r.alice))).toThrow(fails('CRYPTO_MALFORMED'));
    });
  });

  it('obeys the registry it is given', async () => {
    const strict = createAlgorithmRegistry({ statusOverrides: { [CMS_OID.aes256Gcm]: 'legacy' } });
    await expect(encryptCms(plaintext, [r.alice.certificate], { registry: strict })).rejects.toThrow(
      fails('CRYPTO_ALGORITHM_FORBIDDEN'),
    );
    const der = await encryptCms(plaintext, [r.ec.certificate]);
    expect(decryptCms(der, { ...opening(r.ec), registry: strict })).toEqual(plaintext); // legacy is still readable
    const noEcdh = createAlgorithmRegistry({
      statusOverrides: { [CMS_OID.dhSinglePassStdDhSha256Kdf]: 'forbidden' },
    });
    expect(() => decryptCms(der, { ...opening(r.ec), registry: noEcdh })).toThrow(
      fails('CRYPTO_ALGORITHM_FORBIDDEN'),
    );
    await expect(encryptCms(plaintext, [])).rejects.toThrow(fails('CRYPTO_NO_RECIPIENTS'));
  });
});
