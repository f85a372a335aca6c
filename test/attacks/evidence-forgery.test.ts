import { randomBytes, X509Certificate } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createEvidenceIssuer } from '../../src/access-point/evidence-binding.js';
import { ACTION_EVIDENCE, ERDS_SERVICE } from '../../src/profiles/index.js';
import { sendUserMessage, type Attachment, type UserMessage } from '../../src/as4/index.js';
import {
  api,
  RECIPIENT,
  SENDER,
  startTwoAccessPoints,
  type TwoAccessPoints,
} from '../../src/harness/two-access-points.js';
import { formatParticipantId, isQerdsError } from '../../src/core/index.js';
import { verifyEvidence } from '../../src/evidence/index.js';
import { acceptReturnedEvidence } from '../../src/pipeline/index.js';
import { devPkiLayout, type SigningIdentity } from '../../src/pki/index.js';
import type { StoredMessage } from '../../src/store/types.js';
import { createHttpTsaClient } from '../../src/timestamp/index.js';
import { waitFor } from '../helpers/wait.js';
import { devCertificateKinds, sealWithOrganizationIdentifier } from './as4-certificate-kinds.js';
import { accessPointInternals } from '../../src/access-point/internals.js';
import { devTestPki } from '../helpers/pki.js';

/**
 * A forged proof of delivery must be refused: a ContentHandover naming C3 as its issuer, sealed
 * with a certificate that is not C3's pinned e-seal, timestamped by the sender AP's own open /tsa, and returned to
 * C2 in an AS4 Evidence message signed with the same key, over plain HTTP (no mutual TLS). For every kind of
 * certificate the dev PKI issues: the exact refusal of `qerds verify` / POST /api/v1/verify (indication,
 * sub-indication), of C2's intake, and of C2's /as4; C2's message stays `relayed` with no evidence row; then C3's
 * real ContentHandover is taken and the message is `delivered`.
 */
const work = mkdtempSync(join(tmpdir(), 'qerds-attack-evidence-'));
const pkiDir = join(work, 'pki');
const ROLE = 'initiator';

/** Expected answers per sealing certificate: verifier (indication, sub-indication, deciding finding), C2 intake code, /as4 EBMS code. */
const CASES: ReadonlyArray<{
  kind: string;
  indication: string;
  sub?: string;
  code?: string;
  intake: string;
  ebms: string;
  why: RegExp;
}> = [
  // Not an e-seal: refused by the verifier (EN 319 102-1 X.509 constraints) and, as AS4 signers, at the AS4 layer.
  {
    kind: 'recipient encryption-only (alice)',
    indication: 'INDETERMINATE',
    sub: 'CHAIN_CONSTRAINTS_FAILURE',
    code: 'EVIDENCE_SEAL_CERT_ROLE',
    intake: 'PIPELINE_EVIDENCE_INVALID',
    ebms: 'AS4_EBMS_0101',
    why: /neither digitalSignature nor nonRepudiation/,
  },
  {
    kind: 'C3 AS4 encryption',
    indication: 'INDETERMINATE',
    sub: 'CHAIN_CONSTRAINTS_FAILURE',
    code: 'EVIDENCE_SEAL_CERT_ROLE',
    intake: 'PIPELINE_EVIDENCE_INVALID',
    ebms: 'AS4_EBMS_0101',
    why: /neither digitalSignature nor nonRepudiation/,
  },
  {
    kind: 'C3 TLS',
    indication: 'INDETERMINATE',
    sub: 'CHAIN_CONSTRAINTS_FAILURE',
    code: 'EVIDENCE_SEAL_CERT_ROLE',
    intake: 'PIPELINE_EVIDENCE_INVALID',
    ebms: 'AS4_EBMS_0101',
    why: /TLS only/,
  },
  {
    kind: 'C2 TLS',
    indication: 'INDETERMINATE',
    sub: 'CHAIN_CONSTRAINTS_FAILURE',
    code: 'EVIDENCE_SEAL_CERT_ROLE',
    intake: 'PIPELINE_EVIDENCE_INVALID',
    ebms: 'AS4_EBMS_0101',
    why: /TLS only/,
  },
  {
    kind: 'TSA',
    indication: 'INDETERMINATE',
    sub: 'CHAIN_CONSTRAINTS_FAILURE',
    code: 'EVIDENCE_SEAL_CERT_ROLE',
    intake: 'PIPELINE_EVIDENCE_INVALID',
    ebms: 'AS4_EBMS_0101',
    why: /timeStamping/,
  },
  {
    kind: 'trusted list signer',
    indication: 'INDETERMINATE',
    sub: 'CHAIN_CONSTRAINTS_FAILURE',
    code: 'EVIDENCE_SEAL_CERT_ROLE',
    intake: 'PIPELINE_EVIDENCE_INVALID',
    ebms: 'AS4_EBMS_0101',
    why: /tslSigning/,
  },
  // Real e-seals of other APs: their organizationIdentifier (the AP id, src/pki/dev-ap-id.ts) is not the issuer
  // the evidence names (C3's), so the verifier says TOTAL-FAILED, and C2 refuses them as invalid (EBMS:0004).
  {
    kind: 'C2 seal',
    indication: 'TOTAL-FAILED',
    sub: 'SIG_CONSTRAINTS_FAILURE',
    code: 'EVIDENCE_ISSUER_MISMATCH',
    intake: 'PIPELINE_EVIDENCE_INVALID',
    ebms: 'AS4_EBMS_0004',
    why: /organization "urn:qerds-ap:ap:c2"/,
  },
  {
    kind: 'unlisted AP c9 seal',
    indication: 'TOTAL-FAILED',
    sub: 'SIG_CONSTRAINTS_FAILURE',
    code: 'EVIDENCE_ISSUER_MISMATCH',
    intake: 'PIPELINE_EVIDENCE_INVALID',
    ebms: 'AS4_EBMS_0004',
    why: /organization "urn:qerds-ap:ap:c9"/,
  },
];

let net: TwoAccessPoints;
let kinds: Record<string, SigningIdentity>;
let c2Message: StoredMessage;
let c3Message: StoredMessage;

beforeAll(async () => {
  await devTestPki(pkiDir, { aps: ['c2', 'c3', 'c9'] });
  kinds = devCertificateKinds(devPkiLayout(pkiDir));
  net = await startTwoAccessPoints({ outDir: join(work, 'aps'), pkiDir });
  const form = new FormData();
  form.set('metadata', JSON.stringify({ recipient: RECIPIENT.id, subject: 'to be forged' }));
  form.append('payload', new Blob(['<Invoice n="1"/>'], { type: 'application/xml' }), 'invoice.xml');
  const { id } = await api<{ id: string }>(net.c2.url, SENDER.key, '/api/v1/messages', {
    method: 'POST',
    body: form,
  });
  // Relayed and consigned: C3's ContentConsignment is back at C2, and nobody has downloaded the content yet.
  c2Message = await waitFor(
    async () => {
      const events = (await accessPointInternals(net.c2).context.store.listEvidence(id)).map((e) => e.event);
      return events.includes('ContentConsignment')
        ? accessPointInternals(net.c2).context.store.getMessage(id)
        : undefined;
    },
    { timeoutMs: 60_000, what: 'ContentConsignment at C2' },
  );
  expect(c2Message.state).toBe('relayed');
  c3Message = (await accessPointInternals(net.c3).context.store.findMessageByEbmsId(
    c2Message.ebmsMessageId,
    'recipient-ap',
  ))!;
}, 120_000);
afterAll(async () => {
  await net?.stop();
  rmSync(work, { recursive: true, force: true });
});

/** A ContentHandover of C3's message naming C3 as issuer, sealed by `identity`, timestamped by C2's own /tsa. */
async function forgeHandover(identity: SigningIdentity): Promise<{ id: string; xml: string }> {
  const issuer = createEvidenceIssuer({
    self: accessPointInternals(net.c3).context.self,
    policyIds: net.c3.config.ap.policyIds,
    identity,
    tsa: createHttpTsaClient({ url: `${net.c2.url}/tsa`, trust: accessPointInternals(net.c2).trust }),
    clock: accessPointInternals(net.c3).context.clock,
    ids: accessPointInternals(net.c3).context.ids,
    names: () => undefined,
  });
  return issuer.issue({ event: 'ContentHandover', reason: { code: 'RE01' }, message: c3Message });
}

/** The Evidence message C3 would send to C2 for `xml`, to be signed by whoever the test chooses. */
function evidenceMessage(xml: string): { message: UserMessage; attachments: Attachment[] } {
  const messageId = `${randomBytes(8).toString('hex')}@evidence-forgery.test`;
  return {
    attachments: [
      { contentId: 'part-1@qerds-ap', contentType: 'application/xml', body: Buffer.from(xml, 'utf8') },
    ],
    message: {
      messageId,
      timestamp: new Date(),
      refToMessageId: c2Message.ebmsMessageId,
      from: {
        partyId: net.c3.config.ap.id,
        role: `http://docs.oasis-open.org/ebxml-msg/ebms/v3.0/ns/core/200704/${ROLE}`,
      },
      to: {
        partyId: `${net.c2.url}/as4`,
        role: 'http://docs.oasis-open.org/ebxml-msg/ebms/v3.0/ns/core/200704/responder',
      },
      collaboration: {
        service: ERDS_SERVICE,
        action: ACTION_EVIDENCE,
        conversationId: c2Message.ebmsMessageId,
      },
      messageProperties: [
        {
          name: 'originalSender',
          value: formatParticipantId(c3Message.recipient),
          type: 'urn:qerds-ap:participant-id',
        },
        {
          name: 'finalRecipient',
          value: formatParticipantId(c3Message.sender),
          type: 'urn:qerds-ap:participant-id',
        },
        { name: 'evidenceEvent', value: 'ContentHandover' },
      ],
      payloads: [
        {
          href: 'cid:part-1@qerds-ap',
          mimeType: 'application/xml',
          properties: [{ name: 'PartId', value: 'evidence' }],
        },
      ],
    },
  };
}

async function postVerify(xml: string): Promise<{
  valid: boolean;
  report: { indication: string; subIndication?: string; findings: Array<{ code: string }> };
}> {
  const response = await fetch(`${net.c2.url}/api/v1/verify`, {
    method: 'POST',
    body: xml,
    headers: { authorization: `Bearer ${SENDER.key}`, 'content-type': 'application/xml' },
  });
  expect(response.status).toBe(200);
  return (await response.json()) as Awaited<ReturnType<typeof postVerify>>;
}

async function expectNothingStored(evidenceId: string): Promise<void> {
  expect(await accessPointInternals(net.c2).context.store.getEvidence(evidenceId)).toBeUndefined();
  expect((await accessPointInternals(net.c2).context.store.getMessage(c2Message.id))?.state).toBe('relayed');
  expect(
    (await accessPointInternals(net.c2).context.store.listEvidence(c2Message.id)).map((e) => e.event),
  ).not.toContain('ContentHandover');
}

describe('forged ContentHandover, sealed by each kind of dev PKI certificate, returned to C2 without mutual TLS', () => {
  for (const c of CASES) {
    it(`${c.kind}: verify ${c.indication}${c.sub ? ` ${c.sub}` : ''}, C2 refuses it (${c.intake}, ${c.ebms}), nothing stored`, async () => {
      const identity = kinds[c.kind]!;
      const forged = await forgeHandover(identity);
      expect(forged.xml).toContain(net.c3.config.ap.id);

      // `qerds verify` and POST /api/v1/verify: the same report.
      const report = await verifyEvidence(forged.xml, { trust: accessPointInternals(net.c2).trust });
      expect(report.indication).toBe(c.indication);
      expect(report.subIndication).toBe(c.sub);
      const viaApi = await postVerify(forged.xml);
      expect(viaApi.valid).toBe(c.indication === 'TOTAL-PASSED');
      expect(viaApi.report.indication).toBe(c.indication);
      expect(viaApi.report.subIndication).toBe(c.sub);
      if (c.code) expect(viaApi.report.findings.map((f) => f.code)).toContain(c.code);

      // C2's intake, carried by the forger's own signature (whatever the transport).
      const intake = await acceptReturnedEvidence(
        accessPointInternals(net.c2).context,
        forged.xml,
        identity.certificate.fingerprint256,
      ).catch((e: unknown) => e);
      expect(isQerdsError(intake, c.intake), String(intake)).toBe(true);
      await expectNothingStored(forged.id);

      // Over AS4 to C2's /as4, signed with the same key, encrypted for C2, plain HTTP.
      const { message, attachments } = evidenceMessage(forged.xml);
      const sent = await sendUserMessage({
        endpoint: `${net.c2.url}/as4`,
        message,
        attachments,
        identity,
        trust: accessPointInternals(net.c2).trust,
        encryptFor: new X509Certificate(readFileSync(devPkiLayout(pkiDir).ap('c2').encCert)),
        compress: true,
      }).catch((e: unknown) => e);
      expect(isQerdsError(sent, c.ebms), String(sent)).toBe(true);
      expect(String((sent as Error).message)).toMatch(c.why);
      await expectNothingStored(forged.id);
    }, 60_000);
  }

  it('a QSealC-shaped seal whose organizationIdentifier is another organisation: TOTAL-FAILED SIG_CONSTRAINTS_FAILURE, refused', async () => {
    const seal = await sealWithOrganizationIdentifier(devPkiLayout(pkiDir), work, 'NTRJP-9999999999999');
    const forged = await forgeHandover(seal);
    const report = await verifyEvidence(forged.xml, { trust: accessPointInternals(net.c2).trust });
    expect(report.indication).toBe('TOTAL-FAILED');
    expect(report.subIndication).toBe('SIG_CONSTRAINTS_FAILURE');
    expect(report.findings.map((f) => f.code)).toContain('EVIDENCE_ISSUER_MISMATCH');
    const viaApi = await postVerify(forged.xml);
    expect([viaApi.valid, viaApi.report.indication, viaApi.report.subIndication]).toEqual([
      false,
      'TOTAL-FAILED',
      'SIG_CONSTRAINTS_FAILURE',
    ]);
    const intake = await acceptReturnedEvidence(
      accessPointInternals(net.c2).context,
      forged.xml,
      seal.certificate.fingerprint256,
    ).catch((e: unknown) => e);
    expect(isQerdsError(intake, 'PIPELINE_EVIDENCE_INVALID'), String(intake)).toBe(true);
    await expectNothingStored(forged.id);

    // The same kind of seal naming its own organisation as issuer passes the issuer check (control of the rule),
    // and C2 still refuses it: it is not the seal the directory pins for C3's AP.
    const own = await sealWithOrganizationIdentifier(devPkiLayout(pkiDir), work, net.c3.config.ap.id);
    const matching = await forgeHandover(own);
    expect(
      (await verifyEvidence(matching.xml, { trust: accessPointInternals(net.c2).trust })).indication,
    ).toBe('TOTAL-PASSED');
    const refused = await acceptReturnedEvidence(
      accessPointInternals(net.c2).context,
      matching.xml,
      own.certificate.fingerprint256,
    ).catch((e: unknown) => e);
    expect(isQerdsError(refused, 'PIPELINE_EVIDENCE_SEAL_MISMATCH'), String(refused)).toBe(true);
    await expectNothingStored(matching.id);
  }, 60_000);

  it("then C3's real ContentHandover is taken: the recipient downloads, C2's message is delivered, the evidence verifies", async () => {
    const inbox = await api<Array<{ id: string; parts: Array<{ partId: string }> }>>(
      net.c3.url,
      RECIPIENT.key,
      '/api/v1/inbox',
    );
    const item = inbox.find((m) => m.id === c3Message.id)!;
    const handed = await fetch(`${net.c3.url}/api/v1/inbox/${item.id}/parts/${item.parts[0]!.partId}`, {
      headers: { authorization: `Bearer ${RECIPIENT.key}` },
    });
    expect(handed.status).toBe(200);
    await handed.arrayBuffer();
    const delivered = await waitFor(
      async () => {
        const m = await accessPointInternals(net.c2).context.store.getMessage(c2Message.id);
        return m?.state === 'delivered' ? m : undefined;
      },
      { timeoutMs: 60_000, what: 'delivered at C2' },
    );
    expect(delivered.state).toBe('delivered');
    const handover = (await accessPointInternals(net.c2).context.store.listEvidence(c2Message.id)).find(
      (e) => e.event === 'ContentHandover',
    )!;
    const report = await verifyEvidence(handover.xml, { trust: accessPointInternals(net.c2).trust });
    expect(report.indication).toBe('TOTAL-PASSED');
    expect(report.seal?.signer?.fingerprint256).toBe(
      accessPointInternals(net.c3).identity.certificate.fingerprint256,
    );
    expect((await postVerify(handover.xml)).valid).toBe(true);
  }, 90_000);
});
