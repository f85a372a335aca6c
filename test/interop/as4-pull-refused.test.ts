import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/index.js';
import { definePMode, verifyAs4Capture, type PModeInput } from '../../src/as4/index.js';
import { buildUserMessageEnvelope } from '../../src/as4/message/envelope-build.js';
import { buildReceipt } from '../../src/as4/message/signals.js';
import { signEnvelope } from '../../src/as4/security/ws-security-sign.js';
import { serializeXml } from '../../src/xml/index.js';
import { sharedTestPki } from '../helpers/pki.js';
import {
  anchorTrustStore,
  buildPullRequestEnvelope,
  errorCodeOf,
  postAs4,
  sampleMessage,
  sealIdentity,
  startAs4Server,
  type As4TestServer,
} from './as4-helpers.js';

/**
 * One-way/push is the only MEP: the AP keeps no outbox a peer could pull from and pulls from none, so a
 * PullRequest (and a Receipt pushed on its own, which only a pull exchange sends) is answered with EBMS:0008
 * FeatureNotSupported, and a `pull` P-Mode is a configuration error rather than a setting without effect.
 */
const pki = sharedTestPki();
const c2 = sealIdentity(pki, 'c2');
const c3 = sealIdentity(pki, 'c3');
const trust = anchorTrustStore(pki.caCert);
const MPC = 'urn:qerds:mpc:for-c2';
const SOAP12 = 'application/soap+xml; charset=UTF-8';
const pmode: PModeInput = {
  id: 'erds-deliver',
  service: 'urn:qerds:service:erds',
  serviceType: 'urn:qerds:services',
  action: 'Deliver',
};
let server: As4TestServer;

beforeAll(async () => {
  server = await startAs4Server({ identity: c3, trust, pmodes: [definePMode(pmode)] });
});
afterAll(() => server.close());

function pullRequest(messageId: string): Document {
  return buildPullRequestEnvelope({ messageId, timestamp: new Date(), mpc: MPC });
}

describe('AS4 one-way/pull is not offered', () => {
  it('a PullRequest signed by a trusted peer is answered with EBMS:0008, and nothing is handed out', async () => {
    const doc = pullRequest('pr-signed@qerds');
    signEnvelope(doc, [], c2);
    const res = await postAs4(server.endpoint, SOAP12, Buffer.from(serializeXml(doc)));
    expect(res.status).toBe(500);
    expect(errorCodeOf(res.signal)).toBe('EBMS:0008');
    expect(res.signal).toMatchObject({ kind: 'error', signal: { refToMessageId: 'pr-signed@qerds' } });
    expect(server.received).toEqual([]);
  });

  it('an unsigned PullRequest is EBMS:0103, as any unsigned message', async () => {
    const res = await postAs4(
      server.endpoint,
      SOAP12,
      Buffer.from(serializeXml(pullRequest('pr-bare@qerds'))),
    );
    expect(errorCodeOf(res.signal)).toBe('EBMS:0103');
  });

  it('a signed Receipt pushed on its own is EBMS:0008 (receipts come back on the response of our pushes)', async () => {
    const userMessage = buildUserMessageEnvelope(sampleMessage('m-acked@qerds', []));
    const receipt = buildReceipt(userMessage, [], c2);
    const res = await postAs4(server.endpoint, SOAP12, Buffer.from(serializeXml(receipt)));
    expect(errorCodeOf(res.signal)).toBe('EBMS:0008');
  });

  it('a P-Mode with mep "pull" is refused, naming the supported MEP; "push" and no mep are accepted', () => {
    expect(() => definePMode({ ...pmode, mep: 'pull' as 'push' })).toThrow(
      expect.objectContaining({
        code: 'AS4_PMODE_INVALID',
        message: expect.stringMatching(/only the one-way \\"push\\" MEP is supported/),
      }),
    );
    expect(definePMode({ ...pmode, mep: 'push' }).mep).toBe('push');
    expect(definePMode(pmode).mep).toBe('push');
    expect(() =>
      loadConfig({ env: {}, overrides: { as4: { pmodes: [{ ...pmode, mep: 'pull' as 'push' }] } } }),
    ).toThrow(/as4\.pmodes\.0\.mep[\s\S]*only the one-way "push" MEP is supported/);
  });

  it('verifyAs4Capture still reads a PullRequest another MSH sent (here unsigned: INVALID)', () => {
    const r = verifyAs4Capture(Buffer.from(serializeXml(pullRequest('pr-cap@qerds'))), { trust });
    expect(r).toMatchObject({ messageType: 'PullRequest', mpc: MPC, verdict: 'INVALID' });
  });
});
