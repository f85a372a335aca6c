import { expect } from 'vitest';
import { api, type TwoAccessPoints } from '../../src/harness/two-access-points.js';
import { corporateNumberCheckDigit } from '../../src/peppol/index.js';
import { waitFor } from './wait.js';

/**
 * What the tests of a Peppol AP that also relays over the ERDS service share: the two transport profiles a
 * directory entry names, the Japanese end users, and the steps of sending, picking up and waiting for the
 * evidence chain at C2.
 */
export const PEPPOL_TRANSPORT = 'peppol-transport-as4-v2_0';
export const ERDS_TRANSPORT = 'bdxr-transport-ebms3-as4-v1p0';
export const PEPPOL_ERDS_SEATS = { c2: 'POP000101', c3: 'POP000102' };

/** A corporate number participant id (scheme 0188) from its twelve base digits, check digit computed. */
export const corporateParticipant = (base12: string) => `0188:${corporateNumberCheckDigit(base12)}${base12}`;

/** The seller (an end user of C2) and the buyer (of C3), with API keys unique to the test file (`tag`). */
export function peppolTradingParties(tag: string) {
  const key = (role: string) => `${tag}-${role}-key-0123456789abcdef0123`;
  return {
    seller: { id: '0188:9010401012345', name: 'Sample Seller KK', key: key('seller') },
    buyer: { id: '0188:5011001099999', name: 'Sample Buyer GK', key: key('buyer') },
  };
}

/** C2's view of one submission: its id and the eb:MessageId it relays under. */
export interface Submitted {
  readonly id: string;
  readonly ebmsMessageId: string;
}

/** Submit `body` to `recipient` at C2 over REST as the end user with API key `key`; expects 201. */
export async function submitAtC2(
  net: TwoAccessPoints,
  key: string,
  recipient: string,
  body: Buffer,
  type: string,
  filename: string,
): Promise<Submitted> {
  const form = new FormData();
  form.set('metadata', JSON.stringify({ recipient }));
  form.append('payload', new Blob([new Uint8Array(body)], { type }), filename);
  const response = await fetch(`${net.c2.url}/api/v1/messages`, {
    method: 'POST',
    headers: { authorization: `Bearer ${key}` },
    body: form,
  });
  expect(response.status, await response.clone().text()).toBe(201);
  return (await response.json()) as Submitted;
}

/** Wait until the AP at `base` has consigned the message to the end user with API key `key`; its first part. */
export async function pickUpFirstPart(base: string, key: string, ebmsMessageId: string): Promise<Buffer> {
  const item = await waitFor(
    async () =>
      (
        await api<
          Array<{ id: string; ebmsMessageId: string; state: string; parts: Array<{ partId: string }> }>
        >(base, key, '/api/v1/inbox')
      ).find((m) => m.ebmsMessageId === ebmsMessageId && m.state === 'consigned'),
    { timeoutMs: 30_000 },
  );
  const download = await fetch(`${base}/api/v1/inbox/${item.id}/parts/${item.parts[0]!.partId}`, {
    headers: { authorization: `Bearer ${key}` },
  });
  expect(download.status).toBe(200);
  return Buffer.from(await download.arrayBuffer());
}

/**
 * Wait until C2's evidence list of message `id` (read with the sender's API key) holds RelayAcceptance,
 * ContentConsignment and ContentHandover issued by the peer AP `issuer`; the whole list.
 */
export function evidenceChainAtC2(net: TwoAccessPoints, senderKey: string, id: string, issuer: string) {
  return waitFor(
    async () => {
      const items = await api<Array<{ event: string; issuedBy: string; href: string }>>(
        net.c2.url,
        senderKey,
        `/api/v1/messages/${id}/evidence`,
      );
      const fromPeer = new Set(items.filter((e) => e.issuedBy === issuer).map((e) => e.event));
      return ['RelayAcceptance', 'ContentConsignment', 'ContentHandover'].every((e) => fromPeer.has(e))
        ? items
        : undefined;
    },
    { timeoutMs: 30_000 },
  );
}
