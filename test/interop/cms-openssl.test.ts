import { execFileSync, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { beforeAll, describe, expect, it } from 'vitest';
import { decryptCms, decryptCmsDetailed, encryptCms, encryptCmsStream } from '../../src/crypto/index.js';
import { streamToBuffer } from '../../src/pipeline/stage-support.js';
import { cmsRecipients, type CmsRecipient, type CmsRecipients } from '../helpers/cms-recipients.js';
import { cmsLayout } from '../helpers/cms-tamper.js';

/**
 * Interop with an independent CMS implementation: OpenSSL 3.0's `openssl cms`. What it emits for
 * `-encrypt -aes-256-gcm`: AuthEnvelopedData, GCMParameters with a 12-octet nonce and ICVlen 16; RSA →
 * rsaEncryption (PKCS#1 v1.5) unless `-keyopt rsa_padding_mode:oaep`; EC → dhSinglePass-stdDH-sha1kdf
 * unless `-keyopt ecdh_kdf_md:sha256`, AES-256 wrap. X25519 is not supported in CMS by OpenSSL 3.0
 * (neither encrypt nor decrypt), so X25519 is covered by src/crypto tests and known-answer vectors only.
 */
const fails = (code: string) => expect.objectContaining({ name: 'QerdsError', code });
const OAEP = [
  '-keyopt',
  'rsa_padding_mode:oaep',
  '-keyopt',
  'rsa_oaep_md:sha256',
  '-keyopt',
  'rsa_mgf1_md:sha256',
];
const ECDH_SHA256 = ['-keyopt', 'ecdh_kdf_md:sha256'];

describe('CMS AuthEnvelopedData interop with openssl cms', () => {
  let r: CmsRecipients;
  let dir: string;
  const plaintext = Buffer.concat([Buffer.from('interop plaintext '), randomBytes(200_000)]);
  let plainFile: string;

  beforeAll(async () => {
    r = await cmsRecipients();
    dir = mkdtempSync(join(tmpdir(), 'qerds-cms-interop-'));
    plainFile = join(dir, 'plain.bin');
    writeFileSync(plainFile, plaintext);
  });

  /** `openssl cms -encrypt` for recipients, each followed by its -keyopt arguments. */
  function opensslEncrypt(
    recips: readonly (readonly [CmsRecipient, readonly string[]])[],
    extra: readonly string[] = ['-aes-256-gcm'],
  ): Buffer {
    const out = join(dir, `openssl-${randomBytes(4).toString('hex')}.der`);
    const args = ['cms', '-encrypt', ...extra, '-binary', '-in', plainFile, '-outform', 'DER', '-out', out];
    for (const [recipient, keyopts] of recips) args.push('-recip', recipient.certFile, ...keyopts);
    execFileSync('openssl', args, { stdio: 'pipe' });
    return readFileSync(out);
  }

  /** `openssl cms -decrypt`: the plaintext, or the exit status and stderr when it refuses. */
  function opensslDecrypt(
    der: Buffer,
    recipient: CmsRecipient,
  ): { ok: true; plaintext: Buffer } | { ok: false; stderr: string } {
    const input = join(dir, `ours-${randomBytes(4).toString('hex')}.der`);
    writeFileSync(input, der);
    const result = spawnSync('openssl', [
      'cms',
      '-decrypt',
      '-inform',
      'DER',
      '-in',
      input,
      '-recip',
      recipient.certFile,
      '-inkey',
      recipient.keyFile,
      '-binary',
    ]);
    return result.status === 0
      ? { ok: true, plaintext: result.stdout }
      : { ok: false, stderr: result.stderr.toString() };
  }

  describe('ours → openssl cms -decrypt', () => {
    it('RSA-OAEP-SHA256 and EC P-256 recipients, each alone and all together', async () => {
      for (const recipient of [r.alice, r.ec]) {
        expect(opensslDecrypt(await encryptCms(plaintext, [recipient.certificate]), recipient)).toEqual({
          ok: true,
          plaintext,
        });
      }
      const all = [r.alice, r.bob, r.ec, r.ec2];
      const der = await encryptCms(
        plaintext,
        all.map((x) => x.certificate),
      );
      for (const recipient of all) expect(opensslDecrypt(der, recipient)).toEqual({ ok: true, plaintext });
    });

    it('the streaming writer (definite lengths announced before the ciphertext) with authenticated attributes', async () => {
      const attributes = [{ type: '1.2.840.113549.1.9.52', values: [Buffer.from('3000', 'hex')] }];
      for (const recipient of [r.alice, r.ec]) {
        const der = await streamToBuffer(
          encryptCmsStream(
            Readable.from([plaintext.subarray(0, 70_000), plaintext.subarray(70_000)]),
            plaintext.length,
            [recipient.certificate],
          ),
        );
        expect(opensslDecrypt(der, recipient)).toEqual({ ok: true, plaintext });
        const withAttributes = await streamToBuffer(
          encryptCmsStream(Readable.from([plaintext]), plaintext.length, [recipient.certificate], {
            authenticatedAttributes: attributes,
          }),
        );
        expect(
          decryptCms(withAttributes, {
            privateKey: recipient.privateKey,
            certificate: recipient.certificate,
          }),
        ).toEqual(plaintext);
      }
      await expect(
        streamToBuffer(
          encryptCmsStream(Readable.from([plaintext]), plaintext.length + 1, [r.alice.certificate]),
        ),
      ).rejects.toMatchObject({ code: 'CRYPTO_MALFORMED' });
      await expect(
        streamToBuffer(
          encryptCmsStream(Readable.from([plaintext]), plaintext.length - 1, [r.alice.certificate]),
        ),
      ).rejects.toMatchObject({ code: 'CRYPTO_MALFORMED' });
    });

    it('recipients named by subjectKeyIdentifier', async () => {
      const der = await encryptCms(plaintext, [r.alice.certificate, r.ec.certificate], {
        useSubjectKeyIdentifier: true,
      });
      expect(opensslDecrypt(der, r.alice)).toEqual({ ok: true, plaintext });
      expect(opensslDecrypt(der, r.ec)).toEqual({ ok: true, plaintext });
    });

    it('openssl also refuses our message with an altered tag or ciphertext byte, or for the wrong key', async () => {
      const der = await encryptCms(plaintext, [r.alice.certificate]);
      const { contentStart, macEnd } = cmsLayout(der);
      for (const at of [macEnd - 1, contentStart + 5]) {
        const altered = Buffer.from(der);
        altered[at] = (altered[at] ?? 0) ^ 1;
        expect(opensslDecrypt(altered, r.alice).ok).toBe(false);
      }
      expect(opensslDecrypt(der, { ...r.alice, keyFile: r.bob.keyFile }).ok).toBe(false);
    });
  });

  describe('openssl cms -encrypt → ours', () => {
    it('RSA-OAEP-SHA256 recipient', () => {
      const result = decryptCmsDetailed(opensslEncrypt([[r.alice, OAEP]]), {
        privateKey: r.alice.privateKey,
        certificate: r.alice.certificate,
      });
      expect(result.plaintext).toEqual(plaintext);
      expect(result.keyManagement).toBe('rsaes-oaep');
    });

    it('EC P-256 recipient with the SHA-256 KDF, and with OpenSSL’s default SHA-1 KDF (legacy: read, never written)', () => {
      for (const [keyopts, id] of [
        [ECDH_SHA256, 'ecdh-x963-sha256'],
        [[], 'ecdh-x963-sha1'],
      ] as const) {
        const result = decryptCmsDetailed(opensslEncrypt([[r.ec, keyopts]]), {
          privateKey: r.ec.privateKey,
          certificate: r.ec.certificate,
        });
        expect(result.plaintext).toEqual(plaintext);
        expect(result.keyManagement).toBe(id);
      }
    });

    it('several recipients, named by issuer and serial or by subjectKeyIdentifier (-keyid)', () => {
      const recips = [
        [r.alice, OAEP],
        [r.bob, OAEP],
        [r.ec, ECDH_SHA256],
        [r.ec2, ECDH_SHA256],
      ] as const;
      for (const extra of [['-aes-256-gcm'], ['-aes-256-gcm', '-keyid']]) {
        const der = opensslEncrypt(recips, extra);
        for (const [recipient] of recips) {
          expect(
            decryptCms(der, { privateKey: recipient.privateKey, certificate: recipient.certificate }),
          ).toEqual(plaintext);
        }
      }
    });

    it('BER with indefinite lengths and a chunked ciphertext (-stream)', () => {
      const der = opensslEncrypt([[r.ec, ECDH_SHA256]], ['-aes-256-gcm', '-stream']);
      expect(der[1]).toBe(0x80); // indefinite length: really BER
      expect(decryptCms(der, { privateKey: r.ec.privateKey, certificate: r.ec.certificate })).toEqual(
        plaintext,
      );
    });

    it('wrong key, truncated file, altered ciphertext byte, altered tag fail cleanly', () => {
      const der = opensslEncrypt([
        [r.alice, OAEP],
        [r.ec, ECDH_SHA256],
      ]);
      const alice = { privateKey: r.alice.privateKey, certificate: r.alice.certificate };
      expect(() =>
        decryptCms(der, { privateKey: r.bob.privateKey, certificate: r.alice.certificate }),
      ).toThrow(fails('CRYPTO_DECRYPT_FAILED'));
      expect(() => decryptCms(der, { privateKey: r.ec2.privateKey, certificate: r.ec.certificate })).toThrow(
        fails('CRYPTO_DECRYPT_FAILED'),
      );
      expect(() => decryptCms(der, { privateKey: r.bob.privateKey, certificate: r.bob.certificate })).toThrow(
        fails('CRYPTO_NO_MATCHING_RECIPIENT'),
      );
      expect(() => decryptCms(der.subarray(0, der.length - 20), alice)).toThrow(fails('CRYPTO_MALFORMED'));
      const { contentStart, contentEnd, macEnd } = cmsLayout(der);
      for (const at of [contentStart, (contentStart + contentEnd) >> 1, macEnd - 1]) {
        const altered = Buffer.from(der);
        altered[at] = (altered[at] ?? 0) ^ 0x40;
        expect(() => decryptCms(altered, alice)).toThrow(fails('CRYPTO_DECRYPT_FAILED'));
      }
    });

    it('refuses RSA PKCS#1 v1.5 key transport (OpenSSL’s default) and unauthenticated EnvelopedData by policy', () => {
      const alice = { privateKey: r.alice.privateKey, certificate: r.alice.certificate };
      expect(() => decryptCms(opensslEncrypt([[r.alice, []]]), alice)).toThrow(
        fails('CRYPTO_ALGORITHM_FORBIDDEN'),
      );
      expect(() => decryptCms(opensslEncrypt([[r.alice, OAEP]], ['-aes-256-cbc']), alice)).toThrow(
        fails('CRYPTO_ALGORITHM_FORBIDDEN'),
      );
    });
  });
});
