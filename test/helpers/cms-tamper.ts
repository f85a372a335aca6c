import { derTlv, readTlv, tlvBytes, tlvChildren } from '../../src/crypto/ber.js';

/** Offsets of the interesting parts of a DER AuthEnvelopedData, for tests that alter messages. */
export function cmsLayout(der: Buffer): {
  contentStart: number;
  contentEnd: number;
  macStart: number;
  macEnd: number;
} {
  const [, explicit] = tlvChildren(der, readTlv(der, 0));
  const [aed] = tlvChildren(der, explicit!);
  const fields = tlvChildren(der, aed!);
  const eci = fields.find((f, i) => f.tag === 0x30 && i > 0)!;
  const content = tlvChildren(der, eci)[2]!;
  const mac = fields.find((f) => f.tag === 0x04)!;
  return {
    contentStart: content.contentStart,
    contentEnd: content.contentEnd,
    macStart: mac.contentStart,
    macEnd: mac.contentEnd,
  };
}

/** The message re-encoded with its encryptedContent replaced: lengths stay consistent, only the tag can tell. */
export function replaceEncryptedContent(der: Buffer, content: Buffer): Buffer {
  const outer = readTlv(der, 0);
  const [typeOid, explicit] = tlvChildren(der, outer);
  const [aed] = tlvChildren(der, explicit!);
  const fields = tlvChildren(der, aed!).map((f) => {
    if (f.tag !== 0x30) return tlvBytes(der, f);
    const [ct, alg] = tlvChildren(der, f);
    return derTlv(0x30, tlvBytes(der, ct!), tlvBytes(der, alg!), derTlv(0x80, content));
  });
  return derTlv(0x30, tlvBytes(der, typeOid!), derTlv(0xa0, derTlv(0x30, ...fields)));
}

export function encryptedContentOf(der: Buffer): Buffer {
  const { contentStart, contentEnd } = cmsLayout(der);
  return Buffer.from(der.subarray(contentStart, contentEnd));
}
