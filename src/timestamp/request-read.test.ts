import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { AsnConvert } from '@peculiar/asn1-schema';
import { TimeStampReq as AsnTimeStampReq } from '@peculiar/asn1-tsp';
import { describe, expect, it } from 'vitest';
import { derHeader, derTlv, DIGEST_OIDS } from '../pki/index.js';
import { readTimestampRequest } from './request-read.js';
import { encodeTimestampRequest } from './request.js';

const imprint = { algorithm: 'sha256' as const, digest: createHash('sha256').update('doc').digest() };
const refused = (der: Buffer) => {
  try {
    readTimestampRequest(der);
  } catch (e) {
    return e as { code: string; message: string };
  }
  throw new Error('the request was read');
};

describe('readTimestampRequest', () => {
  it('reads what encodeTimestampRequest writes, as an independent ASN.1 library (asn1-tsp) reads it', () => {
    for (const options of [{}, { certReq: true }, { policy: '1.2.3.4.5', nonce: 0x80n, certReq: true }]) {
      const { der, nonce } = encodeTimestampRequest(imprint, options);
      const ours = readTimestampRequest(der);
      const theirs = AsnConvert.parse(der, AsnTimeStampReq);
      expect(ours.version).toBe(theirs.version);
      expect(ours.messageImprint.hashAlgorithm).toBe(theirs.messageImprint.hashAlgorithm.algorithm);
      expect(ours.messageImprint.parameters).toBeUndefined();
      expect(ours.messageImprint.hashedMessage).toEqual(imprint.digest);
      expect(ours.reqPolicy).toBe(theirs.reqPolicy);
      expect(ours.certReq).toBe(theirs.certReq);
      expect(ours.extensionCount).toBe(0);
      // The nonce is kept as its INTEGER element, echoed verbatim into the TSTInfo.
      expect(BigInt(`0x${ours.nonce!.subarray(2).toString('hex')}`)).toBe(nonce);
      expect(ours.nonce!.subarray(2)).toEqual(Buffer.from(theirs.nonce!));
    }
  });

  it('reads an openssl ts -query request (NULL hash parameters, policy, nonce, certReq)', () => {
    const der = execFileSync('openssl', [
      'ts',
      '-query',
      '-digest',
      imprint.digest.toString('hex'),
      '-sha256',
      '-tspolicy',
      '1.2.3.4',
      '-cert',
    ]);
    const req = readTimestampRequest(der);
    expect(req.messageImprint.hashAlgorithm).toBe(DIGEST_OIDS.sha256);
    expect(req.messageImprint.parameters).toEqual(Buffer.from([0x05, 0x00]));
    expect(req.messageImprint.hashedMessage).toEqual(imprint.digest);
    expect(req.reqPolicy).toBe('1.2.3.4');
    expect(req.nonce?.[0]).toBe(0x02);
    expect(req.certReq).toBe(true);
  });

  it('counts request extensions (the TSA refuses any)', () => {
    const { der } = encodeTimestampRequest(imprint);
    const extension = derTlv(
      0x30,
      Buffer.from([0x06, 0x03, 0x2a, 0x03, 0x04]),
      derTlv(0x04, Buffer.from([0])),
    );
    const withExtensions = derTlv(0x30, der.subarray(2), derTlv(0xa0, extension, extension));
    expect(readTimestampRequest(withExtensions).extensionCount).toBe(2);
  });

  it('refuses trailing octets, truncation, BER, and lengths beyond the body', () => {
    const { der } = encodeTimestampRequest(imprint);
    expect(refused(Buffer.concat([der, Buffer.from([0])])).message).toBe(
      'octets follow the DER TimeStampReq',
    );
    expect(refused(der.subarray(0, der.length - 1)).code).toBe('TSA_BAD_REQUEST');
    expect(
      refused(Buffer.concat([Buffer.from([0x30, 0x80]), der.subarray(2), Buffer.from([0, 0])])).code,
    ).toBe('TSA_BAD_REQUEST');
    // A header claiming 4 GiB: refused from the header, nothing is allocated for it.
    expect(refused(Buffer.from([0x30, 0x84, 0xff, 0xff, 0xff, 0xff, 0x02, 0x01, 0x01])).code).toBe(
      'TSA_BAD_REQUEST',
    );
    expect(refused(Buffer.from([0x30, 0x89, 1, 2, 3, 4, 5, 6, 7, 8, 9])).code).toBe('TSA_BAD_REQUEST');
    expect(refused(Buffer.alloc(0)).code).toBe('TSA_BAD_REQUEST');
  });

  it('refuses a deeply nested body without recursing into it', () => {
    // 100 000 nested SEQUENCEs in the messageImprint's place: the reader looks two levels down, no deeper.
    // Headers written from the inside out, joined once (nesting by derTlv would copy quadratically).
    const inner = Buffer.from([0x05, 0x00]);
    const headers: Buffer[] = [];
    let length = inner.length;
    for (let i = 0; i < 100_000; i++) {
      const header = derHeader(0x30, length);
      headers.push(header);
      length += header.length;
    }
    const nested = Buffer.concat([...headers.reverse(), inner]);
    const body = derTlv(0x30, Buffer.from([0x02, 0x01, 0x01]), nested);
    expect(refused(body).message).toMatch(/AlgorithmIdentifier|MessageImprint/);
  });

  it('refuses elements out of place, unknown elements and an empty nonce', () => {
    const { der } = encodeTimestampRequest(imprint, { certReq: true });
    const inner = der.subarray(2);
    const version = inner.subarray(0, 3);
    const messageImprint = inner.subarray(3, 3 + 2 + inner[4]!);
    const rest = inner.subarray(3 + messageImprint.length);
    // Without the version.
    expect(refused(derTlv(0x30, messageImprint, rest)).message).toMatch(/version/);
    // An element after certReq that is not [0] extensions.
    expect(refused(derTlv(0x30, inner, Buffer.from([0x05, 0x00]))).message).toMatch(/unexpected/);
    // certReq before the nonce.
    expect(
      refused(derTlv(0x30, version, messageImprint, Buffer.from([0x01, 0x01, 0xff, 0x02, 0x01, 0x05]))).code,
    ).toBe('TSA_BAD_REQUEST');
    expect(refused(derTlv(0x30, version, messageImprint, Buffer.from([0x02, 0x00]))).message).toMatch(
      /empty nonce/,
    );
    // A MessageImprint with a third element, an AlgorithmIdentifier with three.
    const alg = derTlv(0x30, Buffer.from([0x06, 0x01, 0x2a, 0x05, 0x00, 0x05, 0x00]));
    expect(refused(derTlv(0x30, version, derTlv(0x30, alg, derTlv(0x04, imprint.digest)))).code).toBe(
      'TSA_BAD_REQUEST',
    );
    expect(
      refused(derTlv(0x30, version, derTlv(0x30, messageImprint.subarray(2), Buffer.from([0x05, 0x00]))))
        .message,
    ).toMatch(/two elements/);
  });
});
