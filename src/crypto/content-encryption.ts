import { QerdsError } from '../core/errors.js';
import { OID } from '../pki/oids.js';

/** AES-GCM as RFC 5084 uses it: 12-octet nonce, 16-octet tag. */
export interface GcmCipher {
  readonly oid: string;
  readonly nodeName: 'aes-128-gcm' | 'aes-192-gcm' | 'aes-256-gcm';
  readonly keyLength: number;
}

const GCM: Readonly<Record<string, GcmCipher>> = {
  [OID.aes128Gcm]: { oid: OID.aes128Gcm, nodeName: 'aes-128-gcm', keyLength: 16 },
  [OID.aes192Gcm]: { oid: OID.aes192Gcm, nodeName: 'aes-192-gcm', keyLength: 24 },
  [OID.aes256Gcm]: { oid: OID.aes256Gcm, nodeName: 'aes-256-gcm', keyLength: 32 },
};

export const GCM_NONCE_LENGTH = 12;
export const GCM_TAG_LENGTH = 16;

export function gcmCipher(oid: string): GcmCipher {
  const cipher = GCM[oid];
  if (!cipher)
    throw new QerdsError(
      'CRYPTO_UNSUPPORTED_ALGORITHM',
      `content encryption ${oid} is not supported (AES-GCM only)`,
    );
  return cipher;
}

/** AES-CBC as RFC 3565 uses it in EnvelopedData: the parameters are the 16-octet IV. */
export interface CbcCipher {
  readonly oid: string;
  readonly nodeName: 'aes-256-cbc';
  readonly keyLength: number;
}

const CBC: Readonly<Record<string, CbcCipher>> = {
  [OID.aes256Cbc]: { oid: OID.aes256Cbc, nodeName: 'aes-256-cbc', keyLength: 32 },
};

export const CBC_IV_LENGTH = 16;

export function cbcCipher(oid: string): CbcCipher {
  const cipher = CBC[oid];
  if (!cipher)
    throw new QerdsError(
      'CRYPTO_UNSUPPORTED_ALGORITHM',
      `content encryption ${oid} is not supported in EnvelopedData (AES-256-CBC only)`,
    );
  return cipher;
}
