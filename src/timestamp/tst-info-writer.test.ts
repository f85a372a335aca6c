import { AsnConvert, OctetString } from '@peculiar/asn1-schema';
import { Accuracy, MessageImprint, TSTInfo } from '@peculiar/asn1-tsp';
import { AlgorithmIdentifier } from '@peculiar/asn1-x509';
import { describe, expect, it } from 'vitest';
import { DIGEST_OIDS } from '../pki/index.js';
import { messageImprintDer } from './request.js';
import { readTstInfo } from './tst-info.js';
import { generalizedTime, writeTstInfo } from './tst-info-writer.js';

const digest = Buffer.alloc(32, 0xab);
const imprint = messageImprintDer({ algorithm: 'sha256', digest });
const fields = {
  policy: '1.3.6.1.4.1.32473.1.1',
  messageImprint: imprint,
  serialNumber: 0x80112233n,
  genTime: new Date(Date.UTC(2026, 0, 2, 3, 4, 5, 678)),
  accuracy: { seconds: 1 },
};

describe('writeTstInfo', () => {
  it('writes what an independent ASN.1 library (asn1-tsp, the former writer) writes, octet for octet', () => {
    const cases = [
      fields,
      {
        ...fields,
        accuracy: { seconds: 2, millis: 500 },
        nonce: Buffer.from([0x02, 0x03, 0x00, 0x80, 0x00]),
      },
      { ...fields, accuracy: {}, genTime: new Date(Date.UTC(2049, 11, 31, 23, 59, 59, 0)) },
    ];
    for (const c of cases) {
      const theirs = new TSTInfo({
        version: 1,
        policy: c.policy,
        messageImprint: new MessageImprint({
          hashAlgorithm: new AlgorithmIdentifier({ algorithm: DIGEST_OIDS.sha256 }),
          hashedMessage: new OctetString(new Uint8Array(digest)),
        }),
        serialNumber: new Uint8Array([0x00, 0x80, 0x11, 0x22, 0x33]).buffer,
        genTime: c.genTime,
        accuracy: new Accuracy({
          ...(c.accuracy.seconds ? { seconds: c.accuracy.seconds } : {}),
          ...('millis' in c.accuracy ? { millis: c.accuracy.millis } : {}),
        }),
        ordering: false,
        ...('nonce' in c ? { nonce: new Uint8Array(c.nonce.subarray(2)).buffer } : {}),
      });
      expect(writeTstInfo(c).toString('hex')).toBe(Buffer.from(AsnConvert.serialize(theirs)).toString('hex'));
    }
  });

  it('reads back with the verifier’s TSTInfo reader', () => {
    const nonce = Buffer.from([0x02, 0x02, 0x01, 0x00]);
    const tsaName = Buffer.from('3011310f300d06035504030c06545341206e6d', 'hex');
    const t = readTstInfo(writeTstInfo({ ...fields, accuracy: { seconds: 1, millis: 5 }, nonce, tsaName }));
    expect(t.version).toBe(1);
    expect(t.policy).toBe(fields.policy);
    expect(t.messageImprint).toEqual({ hashAlgorithm: DIGEST_OIDS.sha256, hashedMessage: digest });
    expect(t.serialNumber.toString('hex')).toBe('0080112233');
    expect(t.genTime).toEqual(fields.genTime);
    expect(t.accuracy).toEqual({ seconds: 1, millis: 5 });
    expect(t.ordering).toBe(false);
    expect(t.nonce?.toString('hex')).toBe('0100');
    expect(t.tsa?.directoryName).toEqual(tsaName);
  });
});

describe('generalizedTime', () => {
  it('writes milliseconds without trailing zeros, none on a whole second (X.690 §11.7)', () => {
    const at = (ms: number) =>
      generalizedTime(new Date(Date.UTC(2026, 4, 6, 7, 8, 9, ms)))
        .subarray(2)
        .toString();
    expect(at(0)).toBe('20260506070809Z');
    expect(at(500)).toBe('20260506070809.5Z');
    expect(at(50)).toBe('20260506070809.05Z');
    expect(at(7)).toBe('20260506070809.007Z');
    expect(at(678)).toBe('20260506070809.678Z');
  });
});
