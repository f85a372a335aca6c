import { execFileSync } from 'node:child_process';
import { createHash, createPrivateKey, X509Certificate } from 'node:crypto';
import { copyFileSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/index.js';
import type { PayloadPart } from '../../src/core/index.js';
import { decryptCms, encryptCms } from '../../src/crypto/index.js';
import { createStaticDirectory } from '../../src/directory/index.js';
import {
  AUTH_ENVELOPED_CONTENT_TYPE,
  encryptPartsForRecipient,
  isEnvelopedCms,
} from '../../src/pipeline/index.js';
import { createFileBlobStore, type BlobStore } from '../../src/store/index.js';
import { sharedTestPki } from '../helpers/pki.js';

const sha256 = (bytes: Buffer) => createHash('sha256').update(bytes).digest('hex');

async function readAll(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

describe('end-to-end encryption at submission (src/pipeline/e2e-encryption.ts)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'qerds-e2e-unit-'));
  const recipient = sharedTestPki().recipient('alice');
  const certificatePem = readFileSync(recipient.cert, 'utf8');
  const certificate = new X509Certificate(certificatePem);
  const privateKey = createPrivateKey(readFileSync(recipient.key));
  const plaintext = Buffer.from('<Invoice>42</Invoice>\n');
  const plainFile = join(dir, 'plain.xml');
  writeFileSync(plainFile, plaintext);
  /** CMS made by the openssl CLI, the independent producer. */
  const opensslCms = (...args: string[]) =>
    execFileSync('openssl', ['cms', '-in', plainFile, ...args], { stdio: 'pipe' });
  let blobs: BlobStore;

  beforeAll(() => {
    blobs = createFileBlobStore(join(dir, 'blobs'));
  });

  async function part(bytes: Buffer, contentType: string, partId = 'part-1'): Promise<PayloadPart> {
    const { sha256: key, size } = await blobs.put(bytes);
    return { partId, contentType, sha256: key, size };
  }

  it('recognises enveloped CMS by its bytes: ours (DER), openssl AuthEnvelopedData (BER, streamed) and EnvelopedData', async () => {
    expect(isEnvelopedCms(await encryptCms(plaintext, [certificate]))).toBe(true);
    const streamed = opensslCms('-encrypt', '-aes-256-gcm', '-stream', '-outform', 'DER', recipient.cert);
    expect(streamed.subarray(0, 2).toString('hex')).toBe('3080'); // indefinite length
    expect(isEnvelopedCms(streamed)).toBe(true);
    expect(isEnvelopedCms(opensslCms('-encrypt', '-aes256', '-outform', 'DER', recipient.cert))).toBe(true);
  });

  it('does not take signed-data, plaintext, or a truncated head for enveloped CMS', () => {
    const signed = opensslCms(
      '-sign',
      '-nodetach',
      '-outform',
      'DER',
      '-signer',
      recipient.cert,
      '-inkey',
      recipient.key,
    );
    expect(isEnvelopedCms(signed)).toBe(false);
    expect(isEnvelopedCms(plaintext)).toBe(false);
    expect(isEnvelopedCms(Buffer.from([0x30]))).toBe(false);
    expect(isEnvelopedCms(Buffer.alloc(0))).toBe(false);
    expect(isEnvelopedCms(Buffer.from('3085ffffffffff060b2a864886f70d0109100117', 'hex'))).toBe(false);
  });

  it('encrypts a plaintext part into a new blob, keeping the plaintext digest, size and type', async () => {
    const input = { ...(await part(plaintext, 'application/xml')), filename: 'invoice.xml' };
    const [out] = await encryptPartsForRecipient(blobs, [input], certificatePem);
    expect(out).toMatchObject({
      partId: 'part-1',
      contentType: AUTH_ENVELOPED_CONTENT_TYPE,
      filename: 'invoice.xml',
      plaintextSha256: sha256(plaintext),
      plaintextSize: plaintext.length,
      originalContentType: 'application/xml',
    });
    const ciphertext = await readAll(blobs.get(out!.sha256));
    expect(out!.sha256).toBe(sha256(ciphertext));
    expect(out!.size).toBe(ciphertext.length);
    expect(decryptCms(ciphertext, { privateKey, certificate }).equals(plaintext)).toBe(true);
    // Encrypting what is already encrypted changes nothing (a retried submission step is harmless).
    expect(await encryptPartsForRecipient(blobs, [out!], certificatePem)).toEqual([out]);
  });

  it('passes sender-encrypted CMS through untouched whatever its label, and encrypts a plaintext labelled as CMS', async () => {
    const cms = await part(
      opensslCms('-encrypt', '-aes-256-gcm', '-outform', 'DER', recipient.cert),
      'application/octet-stream',
      'part-1',
    );
    // The label is not trusted: a mislabelled plaintext would otherwise cross C3 in the clear.
    const mislabelled = await part(plaintext, 'application/pkcs7-mime; smime-type=enveloped-data', 'part-2');
    const [first, second] = await encryptPartsForRecipient(blobs, [cms, mislabelled], certificatePem);
    expect(first).toEqual(cms);
    expect(second).toMatchObject({
      contentType: AUTH_ENVELOPED_CONTENT_TYPE,
      plaintextSha256: mislabelled.sha256,
      originalContentType: mislabelled.contentType,
    });
  });

  it("takes a participant's encryptionCertificate from the config file (path relative to it) into the static directory", async () => {
    const configDir = mkdtempSync(join(tmpdir(), 'qerds-e2e-config-'));
    copyFileSync(recipient.cert, join(configDir, 'alice.crt.pem'));
    const file = join(configDir, 'ap.yaml');
    writeFileSync(
      file,
      'directory:\n  participants:\n    - id: "0188:1"\n      name: Alice\n      endpoint: https://c3.example/as4\n      encryptionCertificate: alice.crt.pem\n',
    );
    const config = loadConfig({ file, env: {} });
    expect(config.directory.participants[0]?.encryptionCertificate).toBe(join(configDir, 'alice.crt.pem'));
    const entry = await createStaticDirectory(config.directory.participants).lookup({
      scheme: '0188',
      value: '1',
    });
    expect(entry?.encryptionCertificatePem).toBe(certificatePem);
    const none = createStaticDirectory([{ id: '0188:2', name: 'Bob', endpoint: 'https://c3.example/as4' }]);
    expect(await none.lookup({ scheme: '0188', value: '2' })).not.toHaveProperty('encryptionCertificatePem');
  });

  it('refuses a directory certificate that does not parse (CONFIG_INVALID)', async () => {
    await expect(
      encryptPartsForRecipient(blobs, [await part(plaintext, 'text/plain')], 'not a certificate'),
    ).rejects.toMatchObject({ code: 'CONFIG_INVALID' });
  });
});
