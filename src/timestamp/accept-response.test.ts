import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { sharedTestPki } from '../../test/helpers/pki.js';
import { derChildren, derTlv, loadSigningIdentity, readDerElement } from '../pki/index.js';
import { acceptTimestampResponse, createTimestampAuthority, encodeTimestampRequest } from './index.js';

const imprint = { algorithm: 'sha256' as const, digest: createHash('sha256').update('reply').digest() };

async function reply() {
  const pki = sharedTestPki();
  const tsa = createTimestampAuthority({ identity: loadSigningIdentity(pki.tsaCert, pki.tsaKey) });
  const { der, nonce } = encodeTimestampRequest(imprint, { certReq: true });
  return { response: await tsa.respond(der), nonce };
}

describe('acceptTimestampResponse, on a reply from across the trust boundary', () => {
  it('accepts the TSA’s reply as sent', async () => {
    const { response, nonce } = await reply();
    const token = await acceptTimestampResponse(response, { imprint, nonce });
    expect(token.der.length).toBeGreaterThan(0);
  });

  it('refuses octets after the TimeStampResp, another outer tag, a third element, a PKIStatusInfo that is not a SEQUENCE', async () => {
    const { response, nonce } = await reply();
    const [statusInfo, token] = derChildren(readDerElement(response));
    const altered = [
      Buffer.concat([response, Buffer.from([0x00])]),
      derTlv(0x31, statusInfo!.bytes, token!.bytes),
      derTlv(0x30, statusInfo!.bytes, token!.bytes, Buffer.from([0x05, 0x00])),
      derTlv(0x30, derTlv(0x31, statusInfo!.content), token!.bytes),
    ];
    for (const der of altered) {
      await expect(acceptTimestampResponse(der, { imprint, nonce })).rejects.toMatchObject({
        code: 'TSA_TOKEN_MALFORMED',
      });
    }
  });
});
