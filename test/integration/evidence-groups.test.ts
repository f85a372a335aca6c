import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DOMParser } from '@xmldom/xmldom';
import {
  api,
  RECIPIENT,
  SENDER,
  startTwoAccessPoints,
  type TwoAccessPoints,
} from '../../src/harness/two-access-points.js';
import { acceptReturnedEvidenceGroup } from '../../src/pipeline/index.js';
import type { StoredMessage } from '../../src/store/types.js';
import { waitFor } from '../helpers/wait.js';
import { accessPointInternals, type AccessPointInternals } from '../../src/access-point/internals.js';
import { devTestPki } from '../helpers/pki.js';

/**
 * Evidence returned from C3 to C2 over real AS4 between two APs on loopback: evidences bound for one AP at the same
 * time share one Evidence message (one payload each), and such a message is accepted whole or refused whole.
 */
const work = mkdtempSync(join(tmpdir(), 'qerds-evidence-groups-'));
const EBMS_NS = 'http://docs.oasis-open.org/ebxml-msg/ebms/v3.0/ns/core/200704/';

/** The RefToMessageId of an AS4 receipt: which message it acknowledges. */
function acknowledged(receiptXml: string): string {
  const doc = new DOMParser().parseFromString(receiptXml, 'text/xml');
  return doc.getElementsByTagNameNS(EBMS_NS, 'RefToMessageId')[0]?.textContent ?? '';
}

describe('evidence returned in groups', () => {
  let net: TwoAccessPoints;
  const atC3: StoredMessage[] = [];
  beforeAll(async () => {
    const pkiDir = join(work, 'pki');
    await devTestPki(pkiDir);
    net = await startTwoAccessPoints({ outDir: work, pkiDir });
    for (let i = 0; i < 3; i += 1) {
      const form = new FormData();
      form.set('metadata', JSON.stringify({ recipient: RECIPIENT.id }));
      form.append('payload', new Blob([`<Invoice n="${i}"/>`], { type: 'application/xml' }), 'i.xml');
      const { id } = await api<{ id: string }>(net.c2.url, SENDER.key, '/api/v1/messages', {
        method: 'POST',
        body: form,
      });
      // Both C3 evidences (RelayAcceptance, ContentConsignment) back at C2.
      await waitFor(
        async () =>
          (await accessPointInternals(net.c2).context.store.listEvidence(id)).length >= 3 ? true : undefined,
        { timeoutMs: 30_000 },
      );
      const c2Message = await accessPointInternals(net.c2).context.store.getMessage(id);
      atC3.push(
        (await accessPointInternals(net.c3).context.store.findMessageByEbmsId(
          c2Message!.ebmsMessageId,
          'recipient-ap',
        ))!,
      );
    }
  }, 120_000);
  afterAll(() => net?.stop());

  const returnInput = (
    message: StoredMessage,
    evidence: { id: string; event: string; eventTime: Date; xml: string },
  ) => ({
    endpoint: net.c2.url + '/as4',
    refToEbmsMessageId: message.ebmsMessageId,
    sender: message.recipient,
    recipient: message.sender,
    evidence: evidence as Parameters<
      AccessPointInternals['context']['transport']['sendEvidence']
    >[0]['evidence'],
  });

  it('sends the evidences handed over together in one Evidence message, which C2 acknowledges once for all', async () => {
    const items = [];
    for (const message of atC3)
      for (const evidence of await accessPointInternals(net.c3).context.store.listEvidence(message.id))
        items.push(returnInput(message, evidence));
    expect(items).toHaveLength(6);
    const answers = await Promise.all(
      items.map((item) => accessPointInternals(net.c3).context.transport.sendEvidence(item)),
    );
    const acknowledgedIds = new Set(
      answers.map((a) => ('receiptXml' in a ? acknowledged(a.receiptXml) : '')),
    );
    // One message for the six, not six: the grouped MessageId, acknowledged by one receipt.
    expect([...acknowledgedIds]).toHaveLength(1);
    expect([...acknowledgedIds][0]).toMatch(/^evidence-group-[0-9a-f]{40}@qerds-ap$/);
    // Operators see the grouping: C3's histogram of evidences per returned message has the group of six.
    const metrics = await (await fetch(`${net.c3.url}/metrics`)).text();
    const bucket = (le: string) =>
      Number(
        new RegExp(`qerds_evidence_per_returned_message_bucket\\{le="${le}"\\} (\\d+)`).exec(metrics)?.[1],
      );
    expect(bucket('8') - bucket('4')).toBeGreaterThanOrEqual(1);
    // Alone, an evidence travels in a message of its own: its own MessageId.
    const single = await accessPointInternals(net.c3).context.transport.sendEvidence(items[0]!);
    expect('receiptXml' in single && acknowledged(single.receiptXml)).toBe(
      `${items[0]!.evidence.id}@qerds-ap`,
    );
    // Duplicates at C2: still one evidence per event.
    for (const message of atC3) {
      const c2 = await accessPointInternals(net.c2).context.store.findMessageByEbmsId(
        message.ebmsMessageId,
        'sender-ap',
      );
      const events = (await accessPointInternals(net.c2).context.store.listEvidence(c2!.id)).map(
        (e) => e.event,
      );
      expect(events).toEqual(['SubmissionAcceptance', 'RelayAcceptance', 'ContentConsignment']);
    }
  });

  it('a group holding one forged evidence is refused whole (EBMS:0004); each then goes again alone: the good one is kept', async () => {
    const message = atC3[0]!;
    // A new, well-sealed evidence C2 has not seen (C3 seals it now), and a copy of a real one with its content changed.
    const fresh = await accessPointInternals(net.c3).context.evidence.issue({
      event: 'RelayAcceptance',
      reason: { code: 'RB01' },
      message,
      externalErds: { id: 'c2', name: 'C2' },
    });
    const real = (await accessPointInternals(net.c3).context.store.listEvidence(message.id))[0]!;
    const forged = {
      ...real,
      id: `${real.id}-forged`,
      xml: real.xml.replace(message.ebmsMessageId, `${message.ebmsMessageId}x`),
    };
    expect(forged.xml).not.toBe(real.xml);
    // C2 refuses the group before keeping anything: with the forged one, the fresh one alone is refused as well.
    const c2 = accessPointInternals(net.c2).context;
    await expect(
      acceptReturnedEvidenceGroup(
        c2,
        [fresh.xml, forged.xml],
        accessPointInternals(net.c3).identity.certificate.fingerprint256,
      ),
    ).rejects.toMatchObject({ code: 'PIPELINE_EVIDENCE_INVALID' });
    expect(await c2.store.getEvidence(fresh.id)).toBeUndefined();
    // Over AS4 the group is refused, then each evidence is sent on its own at once.
    const outcomes = await Promise.allSettled([
      accessPointInternals(net.c3).context.transport.sendEvidence(returnInput(message, fresh)),
      accessPointInternals(net.c3).context.transport.sendEvidence(returnInput(message, forged)),
    ]);
    expect(outcomes[0]!.status).toBe('fulfilled');
    expect(
      outcomes[0]!.status === 'fulfilled' &&
        'receiptXml' in outcomes[0]!.value &&
        acknowledged(outcomes[0]!.value.receiptXml),
    ).toBe(`${fresh.id}@qerds-ap`);
    expect(outcomes[1]!.status).toBe('rejected');
    expect(String((outcomes[1] as PromiseRejectedResult).reason)).toMatch(/0004/);
    expect((await c2.store.getEvidence(fresh.id))?.event).toBe('RelayAcceptance');
    expect(await c2.store.getEvidence(forged.id)).toBeUndefined();
  });

  it('C2 keeps a group in one transaction; a group holding one it already has keeps the others, the duplicate once', async () => {
    const c2 = accessPointInternals(net.c2).context;
    const sealer = accessPointInternals(net.c3).identity.certificate.fingerprint256;
    const issue = (message: StoredMessage) =>
      accessPointInternals(net.c3).context.evidence.issue({
        event: 'RelayAcceptance',
        reason: { code: 'RB01' },
        message,
        externalErds: { id: 'c2', name: 'C2' },
      });
    let transactions = 0;
    const counted = {
      ...c2,
      store: {
        ...c2.store,
        transaction: ((work) => (transactions++, c2.store.transaction(work))) as typeof c2.store.transaction,
      },
    };
    const [a, b] = [await issue(atC3[1]!), await issue(atC3[2]!)];
    await acceptReturnedEvidenceGroup(counted, [a.xml, b.xml], sealer);
    expect(transactions).toBe(1);
    expect((await c2.store.getEvidence(a.id))?.event).toBe('RelayAcceptance');
    expect((await c2.store.getEvidence(b.id))?.event).toBe('RelayAcceptance');
    // Sent again with a new one (a lost receipt): the group cannot be kept whole, so each is kept on its own.
    const c = await issue(atC3[1]!);
    await acceptReturnedEvidenceGroup(counted, [a.xml, c.xml], sealer);
    expect((await c2.store.getEvidence(c.id))?.event).toBe('RelayAcceptance');
    const c2Message = await c2.store.findMessageByEbmsId(atC3[1]!.ebmsMessageId, 'sender-ap');
    const ids = (await c2.store.listEvidence(c2Message!.id)).map((e) => e.id);
    expect(ids.filter((id) => id === a.id)).toHaveLength(1);
    expect(ids).toContain(c.id);
  });
});
