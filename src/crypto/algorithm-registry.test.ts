import { describe, expect, it } from 'vitest';
import {
  createAlgorithmRegistry,
  createMailInteropRegistry,
  DEFAULT_ALGORITHMS,
} from './algorithm-registry.js';
import { OID } from '../pki/oids.js';

const fails = (code: string) => expect.objectContaining({ name: 'QerdsError', code });

describe('algorithm registry', () => {
  it('knows OIDs and W3C URIs with a kind and a status', () => {
    const registry = createAlgorithmRegistry();
    expect(registry.lookup(OID.aes256Gcm)).toMatchObject({
      id: 'aes256-gcm',
      kind: 'content-encryption',
      status: 'allowed',
    });
    expect(registry.lookup('http://www.w3.org/2001/04/xmlenc#sha256')).toMatchObject({
      id: 'sha256',
      kind: 'digest',
      status: 'allowed',
    });
    expect(registry.lookup(OID.rsaEncryption)).toMatchObject({ kind: 'key-transport', status: 'forbidden' });
    expect(registry.lookup('1.2.3.4')).toBeUndefined();
  });

  it('allows legacy algorithms only for consuming, never for producing', () => {
    const registry = createAlgorithmRegistry();
    expect(registry.require(OID.dhSinglePassStdDhSha1Kdf, 'key-agreement', 'consume').id).toBe(
      'ecdh-x963-sha1',
    );
    expect(() => registry.require(OID.dhSinglePassStdDhSha1Kdf, 'key-agreement', 'produce')).toThrow(
      fails('CRYPTO_ALGORITHM_FORBIDDEN'),
    );
    expect(() => registry.require(OID.rsaEncryption, 'key-transport', 'consume')).toThrow(
      fails('CRYPTO_ALGORITHM_FORBIDDEN'),
    );
  });

  it('refuses unknown identifiers and kind mismatches as unsupported', () => {
    const registry = createAlgorithmRegistry();
    expect(() => registry.require('1.2.3.4', 'digest', 'consume')).toThrow(
      fails('CRYPTO_UNSUPPORTED_ALGORITHM'),
    );
    expect(() => registry.require(OID.sha256, 'content-encryption', 'consume')).toThrow(
      fails('CRYPTO_UNSUPPORTED_ALGORITHM'),
    );
  });

  it('is an instance: overrides change one registry, not the defaults or another instance', () => {
    const strict = createAlgorithmRegistry({ statusOverrides: { [OID.sha1]: 'forbidden' } });
    const plain = createAlgorithmRegistry();
    expect(strict.lookup(OID.sha1)?.status).toBe('forbidden');
    expect(plain.lookup(OID.sha1)?.status).toBe('legacy');
    expect(DEFAULT_ALGORITHMS.find((e) => e.identifier === OID.sha1)?.status).toBe('legacy');
    expect(() => createAlgorithmRegistry({ statusOverrides: { '1.2.3': 'allowed' } })).toThrow(
      fails('CRYPTO_UNSUPPORTED_ALGORITHM'),
    );
    const extended = createAlgorithmRegistry({
      extra: [{ identifier: '1.2.3', id: 'test', kind: 'digest', status: 'allowed' }],
    });
    expect(extended.require('1.2.3', 'digest', 'produce').id).toBe('test');
  });

  it('the mail-interop registry allows CMS AES-256-CBC and RSA PKCS#1 v1.5 and nothing else; the default still forbids them', () => {
    const mail = createMailInteropRegistry();
    expect(mail.require(OID.aes256Cbc, 'content-encryption', 'produce').id).toBe('aes256-cbc');
    expect(mail.require(OID.rsaEncryption, 'key-transport', 'produce').id).toBe('rsaes-pkcs1-v1_5');
    expect(() =>
      mail.require('http://www.w3.org/2001/04/xmlenc#aes256-cbc', 'content-encryption', 'produce'),
    ).toThrow(fails('CRYPTO_ALGORITHM_FORBIDDEN'));
    expect(() => mail.require('2.16.840.1.101.3.4.1.2', 'content-encryption', 'produce')).toThrow(
      fails('CRYPTO_ALGORITHM_FORBIDDEN'),
    );
    const plain = createAlgorithmRegistry();
    expect(() => plain.require(OID.aes256Cbc, 'content-encryption', 'consume')).toThrow(
      fails('CRYPTO_ALGORITHM_FORBIDDEN'),
    );
    expect(() => plain.require(OID.rsaEncryption, 'key-transport', 'produce')).toThrow(
      fails('CRYPTO_ALGORITHM_FORBIDDEN'),
    );
  });
});
