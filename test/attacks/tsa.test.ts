import { createHash } from 'node:crypto';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { AsnConvert } from '@peculiar/asn1-schema';
import { TimeStampResp } from '@peculiar/asn1-tsp';
import express from 'express';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadSigningIdentity } from '../../src/pki/index.js';
import {
  createTimestampAuthority,
  createTsaRouter,
  encodeTimestampRequest,
} from '../../src/timestamp/index.js';
import { sharedTestPki } from '../helpers/pki.js';

/**
 * The embedded TSA at /tsa must not grant a token to a request followed by garbage: refused
 * with an RFC 3161 rejection (PKIStatus 2, failInfo badDataFormat), and a valid request is then granted.
 */
const BAD_DATA_FORMAT_BIT = 5;

describe('TSA request attacks', () => {
  let server: Server;
  let url: string;
  beforeAll(async () => {
    const pki = sharedTestPki();
    const tsa = createTimestampAuthority({ identity: loadSigningIdentity(pki.tsaCert, pki.tsaKey) });
    const app = express();
    app.use('/tsa', createTsaRouter(tsa));
    server = await new Promise<Server>((resolve) => {
      const s = app.listen(0, '127.0.0.1', () => resolve(s));
    });
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/tsa`;
  });
  afterAll(() => new Promise((resolve) => server.close(resolve)));

  const ask = async (body: Buffer) => {
    const res = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/timestamp-query' },
      body: new Uint8Array(body),
    });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('application/timestamp-reply');
    return AsnConvert.parse(Buffer.from(await res.arrayBuffer()), TimeStampResp);
  };
  const request = () =>
    encodeTimestampRequest({ algorithm: 'sha256', digest: createHash('sha256').update('document').digest() })
      .der;
  const expectBadDataFormat = (resp: TimeStampResp) => {
    expect(resp.status.status).toBe(2); // rejection
    expect(resp.status.failInfo?.toNumber()).toBe(1 << BAD_DATA_FORMAT_BIT);
    expect(resp.timeStampToken).toBeUndefined();
  };

  it('refuses a TimeStampReq followed by trailing octets (badDataFormat)', async () => {
    const resp = await ask(Buffer.concat([request(), Buffer.from('garbage after the DER')]));
    expectBadDataFormat(resp);
    expect(resp.status.statusString?.[0]).toBe('octets follow the DER TimeStampReq');
  });

  it('refuses a request whose outer length runs past the body, or an indefinite (BER) length', async () => {
    const der = request();
    expectBadDataFormat(await ask(der.subarray(0, der.length - 3)));
    const ber = Buffer.concat([Buffer.from([0x30, 0x80]), der.subarray(2), Buffer.from([0, 0])]);
    expectBadDataFormat(await ask(ber));
  });

  it('then grants a valid request', async () => {
    const resp = await ask(request());
    expect(resp.status.status).toBe(0);
    expect(resp.timeStampToken).toBeDefined();
  });
});
