import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { simpleParser } from 'mailparser';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  api,
  apiText,
  RECIPIENT,
  SENDER,
  startTwoAccessPoints,
  type TwoAccessPoints,
} from '../../src/harness/two-access-points.js';
import {
  eventUri,
  parseParticipantId,
  reasonUri,
  type EvidenceEvent,
  type MessageState,
  type ReasonCode,
} from '../../src/core/index.js';
import { parseEvidenceXml, verifyEvidence } from '../../src/evidence/index.js';
import { API_KEY_METHOD, LOA_LOW } from '../../src/api/index.js';
import { acceptanceExpiryStage, answerAcceptance } from '../../src/pipeline/index.js';
import { devPkiLayout } from '../../src/pki/index.js';
import { startTlsSink } from '../smtp/mail-fixtures.js';
import type { SmtpSink } from '../smtp/smtp-sink.js';
import { waitFor } from '../helpers/wait.js';
import { xmlsecVerify } from '../helpers/xmlsec.js';
import type { TwoAccessPointsMode } from './two-access-points-suite.js';
import { accessPointInternals } from '../../src/access-point/internals.js';
import { useOpenApiContract } from '../helpers/openapi-contract.js';
import { devTestPki } from '../helpers/pki.js';

const SCHEMA = new URL('../../schemas/evidence/en319522-evidence.xsd', import.meta.url).pathname;

/** Local participants of C3, one per consignment policy under test (webhook paths name their fate). */
const ACCEPTOR = {
  id: '0188:1000000000001',
  name: 'Acceptance Required KK',
  key: 'acceptor-key-0123456789abcdef00',
};
const LATE = { id: '0188:1000000000002', name: 'Never Answers KK', key: 'late-key-0123456789abcdef000000' };
const UNREACHABLE = {
  id: '0188:1000000000003',
  name: 'Webhook Down KK',
  key: 'unreach-key-0123456789abcdef0000',
};
const NOTIFIED = {
  id: '0188:1000000000004',
  name: 'Store And Notify KK',
  key: 'notified-key-0123456789abcdef000',
};
const GONE = { id: '0188:1000000000006', name: 'Webhook Gone KK', key: 'gone-key-0123456789abcdef0000000' };
const MAILED = {
  id: '0188:1000000000007',
  name: 'Mailbox Only KK',
  key: 'mailed-key-0123456789abcdef00000',
  email: 'acceptance@c4.example',
};
const NOTIFY_DOWN = {
  id: '0188:1000000000005',
  name: 'Notify Down KK',
  key: 'notifydown-key-0123456789abcdef0',
};

interface Notice {
  readonly type: string;
  readonly messageId: string;
  readonly ebmsMessageId: string;
  readonly pickupUrl: string;
  readonly acceptUrl?: string;
  readonly rejectUrl?: string;
  readonly deadline?: string;
  readonly parts: readonly { partId: string }[];
}

/**
 * EN 319 522-1 groups C and D beyond plain consignment, in the real flow between two APs on loopback: consignment
 * with the recipient's acceptance (NotificationForAcceptance(/Failure), ConsignmentAcceptance, ConsignmentRejection,
 * AcceptanceRejectionExpiry) and store-and-notify (ConsignmentNotification(/Failure)). Every evidence is checked
 * against the EN 319 522-3 XSD (xmllint), its XAdES by xmlsec1 and by our verifier, and C2's copy of the chain for
 * its links. Runs on the embedded default and on PostgreSQL + BullMQ (the modes of two-access-points-suite.ts).
 */
export function describeAcceptanceEvents(mode: TwoAccessPointsMode): void {
  describe(`consignment with acceptance and store-and-notify (EN 319 522-1 groups C, D)${mode.label}`, () => {
    useOpenApiContract();
    const work = mkdtempSync(join(tmpdir(), 'qerds-accept-'));
    const pkiDir = join(work, 'pki');
    const notices: Notice[] = [];
    let webhook: Server;
    let sink: SmtpSink;
    let net: TwoAccessPoints;

    beforeAll(async () => {
      await devTestPki(pkiDir);
      webhook = createServer((req, res) => {
        const chunks: Buffer[] = [];
        req.on('data', (c: Buffer) => chunks.push(c));
        req.on('end', () => {
          // `/down`: the recipient's endpoint is failing (503, retried); anything else but `/gone` takes the notice.
          if (req.url === '/down') return void res.writeHead(503).end();
          // `/gone`: the endpoint no longer exists (410, final: not retried).
          if (req.url === '/gone') return void res.writeHead(410).end();
          notices.push(JSON.parse(Buffer.concat(chunks).toString('utf8')) as Notice);
          res.writeHead(204).end();
        });
      });
      await new Promise<void>((resolve) => webhook.listen(0, '127.0.0.1', resolve));
      const hook = (path: string) => `http://127.0.0.1:${(webhook.address() as AddressInfo).port}${path}`;
      // The recipient's mail server (REM notices and dispatches to registered addresses): STARTTLS with the dev PKI.
      const pki = devPkiLayout(pkiDir);
      const started = await startTlsSink(pki);
      sink = started.sink;
      const { outbound } = started;
      const overrides = await mode.overrides?.('accept');
      net = await startTwoAccessPoints({
        outDir: join(work, 'aps'),
        pkiDir,
        overrides: (name) => ({
          ...overrides?.(name),
          relay: { baseDelayMs: 100, maxDelayMs: 400, maxAttempts: 3 },
          ...(name === 'c3' ? { smtp: { domain: 'c3.example', outbound } } : {}),
        }),
        extraParticipants: [
          {
            ...ACCEPTOR,
            servedBy: 'c3',
            account: { key: ACCEPTOR.key, acceptance: 'required', notificationUrl: hook('/acceptor') },
          },
          {
            ...LATE,
            servedBy: 'c3',
            account: {
              key: LATE.key,
              acceptance: 'required',
              acceptanceWindowSeconds: 2,
              notificationUrl: hook('/late'),
            },
          },
          {
            ...UNREACHABLE,
            servedBy: 'c3',
            account: { key: UNREACHABLE.key, acceptance: 'required', notificationUrl: hook('/down') },
          },
          {
            ...GONE,
            servedBy: 'c3',
            account: { key: GONE.key, acceptance: 'required', notificationUrl: hook('/gone') },
          },
          {
            ...MAILED,
            servedBy: 'c3',
            account: { key: MAILED.key, acceptance: 'required', deliveryEmail: MAILED.email },
          },
          {
            ...NOTIFIED,
            servedBy: 'c3',
            account: { key: NOTIFIED.key, consignment: 'notify', notificationUrl: hook('/notified') },
          },
          {
            ...NOTIFY_DOWN,
            servedBy: 'c3',
            account: { key: NOTIFY_DOWN.key, consignment: 'notify', notificationUrl: hook('/down') },
          },
        ],
      });
    }, 90_000);
    afterAll(async () => {
      await net?.stop();
      await new Promise((resolve) => webhook?.close(resolve));
      await sink?.close();
    });

    /** Submits at C2 for `recipient`; returns C2's message id. */
    async function submit(recipient: { id: string }): Promise<string> {
      const form = new FormData();
      form.set('metadata', JSON.stringify({ recipient: recipient.id, subject: 'acceptance test' }));
      form.append('payload', new Blob(['<Invoice>42</Invoice>'], { type: 'application/xml' }), 'invoice.xml');
      const response = await fetch(`${net.c2.url}/api/v1/messages`, {
        method: 'POST',
        headers: { authorization: `Bearer ${SENDER.key}` },
        body: form,
      });
      expect(response.status).toBe(201);
      return ((await response.json()) as { id: string }).id;
    }

    const noticeFor = async (c2Id: string, type: string): Promise<Notice> => {
      const message = await accessPointInternals(net.c2).context.store.getMessage(c2Id);
      return waitFor(
        () => notices.find((n) => n.ebmsMessageId === message!.ebmsMessageId && n.type === type),
        { what: `${type} notice for ${c2Id}` },
      );
    };

    /** Waits until C2 holds C3's evidence `event` for its message `c2Id`; returns its XML. */
    const evidenceAtC2 = (c2Id: string, event: EvidenceEvent): Promise<string> =>
      waitFor(
        async () =>
          (await accessPointInternals(net.c2).context.store.listEvidence(c2Id)).find((e) => e.event === event)
            ?.xml,
        { what: `${event} at C2`, timeoutMs: 40_000 },
      );

    /** Waits until C2's message `c2Id` is in `state` (moved there by the evidence C3 returned). */
    const c2Reaches = (c2Id: string, state: MessageState) =>
      waitFor(
        async () =>
          (await accessPointInternals(net.c2).context.store.getMessage(c2Id))?.state === state
            ? true
            : undefined,
        { what: `C2 message ${c2Id} ${state}` },
      );

    const c3MessageOf = async (c2Id: string) => {
      const c2 = await accessPointInternals(net.c2).context.store.getMessage(c2Id);
      return (await accessPointInternals(net.c3).context.store.findMessageByEbmsId(
        c2!.ebmsMessageId,
        'recipient-ap',
      ))!;
    };

    /** XSD (xmllint), xmlsec1 and our verifier on one evidence, and its event and reason URIs. */
    async function checkEvidence(xml: string, event: EvidenceEvent, reason: ReasonCode): Promise<void> {
      const file = join(mkdtempSync(join(tmpdir(), 'qerds-accept-ev-')), `${event}.xml`);
      writeFileSync(file, xml);
      const lint = spawnSync('xmllint', ['--noout', '--schema', SCHEMA, file], { encoding: 'utf8' });
      expect(lint.status, `${event} against the XSD: ${lint.stderr}`).toBe(0);
      const xmlsec = xmlsecVerify(xml, devPkiLayout(pkiDir).caCert);
      expect(xmlsec.ok, `${event} with xmlsec1: ${xmlsec.output}`).toBe(true);
      const report = await verifyEvidence(xml, { trust: accessPointInternals(net.c2).trust });
      expect(
        report.indication,
        `${event} with our verifier: ${report.findings.map((f) => f.message).join('; ')}`,
      ).toBe('TOTAL-PASSED');
      expect(report.evidence?.event).toBe(event);
      expect(report.evidence?.issuer.id).toBe(net.c3.config.ap.id);
      expect(xml).toContain(eventUri(event));
      expect(xml).toContain(reasonUri(reason));
    }

    /**
     * C3's evidence about message `c2Id` as C2's REST API shows the sender (`GET /messages/{id}/evidence`, then each
     * `GET /evidence/{id}`), in chain order: from the newest, each evidence names its predecessor (previous evidence
     * link) down to RelayAcceptance, which starts C3's chain. The ids are exactly those in C3's store.
     */
    async function c3ChainAtC2(c2Id: string): Promise<EvidenceEvent[]> {
      const links = await api<{ id: string; href: string; issuedBy: string }[]>(
        net.c2.url,
        SENDER.key,
        `/api/v1/messages/${c2Id}/evidence`,
      );
      const fromC3 = links.filter((l) => l.issuedBy === net.c3.config.ap.id);
      const parsed = new Map(
        await Promise.all(
          fromC3.map(
            async (l) => [l.id, parseEvidenceXml(await apiText(net.c2.url, SENDER.key, l.href))] as const,
          ),
        ),
      );
      const referenced = new Set([...parsed.values()].map((d) => d.previousEvidenceId));
      const heads = [...parsed.keys()].filter((id) => !referenced.has(id));
      expect(heads, 'one newest evidence').toHaveLength(1);
      const events: EvidenceEvent[] = [];
      for (let id: string | undefined = heads[0]; id !== undefined; id = parsed.get(id)?.previousEvidenceId) {
        const data = parsed.get(id);
        expect(data, `evidence ${id} named as previous is at C2`).toBeDefined();
        events.unshift(data!.event);
      }
      expect(events).toHaveLength(fromC3.length);
      const atC3 = await accessPointInternals(net.c3).context.store.listEvidence(
        (await c3MessageOf(c2Id)).id,
      );
      expect(new Set(fromC3.map((e) => e.id))).toEqual(new Set(atC3.map((e) => e.id)));
      return events;
    }

    const post = (url: string, key: string, body?: unknown) =>
      fetch(url, {
        method: 'POST',
        headers: { authorization: `Bearer ${key}`, ...(body ? { 'content-type': 'application/json' } : {}) },
        body: body ? JSON.stringify(body) : undefined,
      });
    const get = (url: string, key: string) => fetch(url, { headers: { authorization: `Bearer ${key}` } });

    it('acceptance: NotificationForAcceptance, nothing handed over before ConsignmentAcceptance, then consignment and handover', async () => {
      const id = await submit(ACCEPTOR);
      const notice = await noticeFor(id, 'NotificationForAcceptance');
      expect(notice.acceptUrl).toBe(`${net.c3.url}/api/v1/messages/${notice.messageId}/accept`);
      expect(Date.parse(notice.deadline!)).toBeGreaterThan(Date.now() + 3_000_000);
      await checkEvidence(
        await evidenceAtC2(id, 'NotificationForAcceptance'),
        'NotificationForAcceptance',
        'RC01',
      );
      await waitFor(async () =>
        (await accessPointInternals(net.c3).context.store.getMessage(notice.messageId))?.state ===
        'awaiting-acceptance'
          ? true
          : undefined,
      );
      // REQ4 and the policy: the content stays at C3 until the recipient accepts.
      const early = await get(
        `${net.c3.url}/api/v1/inbox/${notice.messageId}/parts/${notice.parts[0]!.partId}`,
        ACCEPTOR.key,
      );
      expect(early.status).toBe(409);
      // Another participant cannot answer for the recipient (and cannot learn that the message exists).
      expect((await post(notice.acceptUrl!, RECIPIENT.key)).status).toBe(404);

      const accepted = await post(notice.acceptUrl!, ACCEPTOR.key);
      expect(accepted.status).toBe(200);
      expect(((await accepted.json()) as { evidence: { event: string } }).evidence.event).toBe(
        'ConsignmentAcceptance',
      );
      const acceptance = await evidenceAtC2(id, 'ConsignmentAcceptance');
      await checkEvidence(acceptance, 'ConsignmentAcceptance', 'RC07');
      // The recipient's identification is recorded in the evidence (API key, its assurance level).
      expect(parseEvidenceXml(acceptance).recipient.identification?.method).toBeDefined();
      expect((await post(notice.acceptUrl!, ACCEPTOR.key)).status).toBe(409);

      await evidenceAtC2(id, 'ContentConsignment');
      const part = await get(
        `${net.c3.url}/api/v1/inbox/${notice.messageId}/parts/${notice.parts[0]!.partId}`,
        ACCEPTOR.key,
      );
      expect(part.status).toBe(200);
      expect(await part.text()).toBe('<Invoice>42</Invoice>');
      await evidenceAtC2(id, 'ContentHandover');
      expect(await c3ChainAtC2(id)).toEqual([
        'RelayAcceptance',
        'NotificationForAcceptance',
        'ConsignmentAcceptance',
        'ContentConsignment',
        'ContentHandover',
      ]);
      await c2Reaches(id, 'delivered');
    });

    it("rejection: ConsignmentRejection with the recipient's reason; the content is never handed over", async () => {
      const id = await submit(ACCEPTOR);
      const notice = await noticeFor(id, 'NotificationForAcceptance');
      await evidenceAtC2(id, 'NotificationForAcceptance');
      expect(
        (await post(notice.rejectUrl!, ACCEPTOR.key, { reason: 'not our order', extra: 1 })).status,
      ).toBe(400);
      const rejected = await post(notice.rejectUrl!, ACCEPTOR.key, { reason: 'not our order' });
      expect(rejected.status).toBe(200);
      const xml = await evidenceAtC2(id, 'ConsignmentRejection');
      await checkEvidence(xml, 'ConsignmentRejection', 'RC08');
      expect(parseEvidenceXml(xml).reason?.details).toBe('not our order');
      expect((await c3MessageOf(id)).state).toBe('rejected');
      expect(
        (
          await get(
            `${net.c3.url}/api/v1/inbox/${notice.messageId}/parts/${notice.parts[0]!.partId}`,
            ACCEPTOR.key,
          )
        ).status,
      ).toBe(409);
      expect((await post(notice.acceptUrl!, ACCEPTOR.key)).status).toBe(409);
      expect(await c3ChainAtC2(id)).toEqual([
        'RelayAcceptance',
        'NotificationForAcceptance',
        'ConsignmentRejection',
      ]);
      await c2Reaches(id, 'failed');
    });

    it('no answer in the window: AcceptanceRejectionExpiry from the outbox sweep; a late acceptance is refused', async () => {
      const id = await submit(LATE);
      const notice = await noticeFor(id, 'NotificationForAcceptance');
      const xml = await evidenceAtC2(id, 'AcceptanceRejectionExpiry');
      await checkEvidence(xml, 'AcceptanceRejectionExpiry', 'RC09');
      // Issued at the deadline the notice announced, not before.
      expect(parseEvidenceXml(xml).eventTime.getTime()).toBeGreaterThanOrEqual(Date.parse(notice.deadline!));
      expect((await post(notice.acceptUrl!, LATE.key)).status).toBe(409);
      expect((await c3MessageOf(id)).state).toBe('failed');
      expect(await c3ChainAtC2(id)).toEqual([
        'RelayAcceptance',
        'NotificationForAcceptance',
        'AcceptanceRejectionExpiry',
      ]);
      await c2Reaches(id, 'failed');
    });

    it('an acceptance racing the expiry: exactly one of ConsignmentAcceptance and AcceptanceRejectionExpiry is recorded', async () => {
      const ids = await Promise.all([submit(ACCEPTOR), submit(ACCEPTOR), submit(ACCEPTOR), submit(ACCEPTOR)]);
      const identification = { method: API_KEY_METHOD, assuranceLevel: LOA_LOW, authenticatedAt: new Date() };
      const outcomes = await Promise.all(
        ids.map(async (id, i) => {
          const notice = await noticeFor(id, 'NotificationForAcceptance');
          const c3 = accessPointInternals(net.c3).context;
          await waitFor(async () =>
            (await c3.store.getMessage(notice.messageId))?.state === 'awaiting-acceptance' ? true : undefined,
          );
          // The expiry job as the sweep runs it at the deadline (a clock past it), while the recipient's answer is
          // on its way: both read the message awaiting acceptance and seal their evidence, the store decides.
          const late = { ...c3, clock: { now: () => new Date(Date.now() + 7_200_000) } };
          const job = {
            id: -1,
            stage: 'acceptance-expiry' as const,
            messageId: notice.messageId,
            data: { deadline: new Date().toISOString() },
            createdAt: new Date(),
            attempts: 0,
          };
          const [answer] = await Promise.allSettled([
            answerAcceptance(c3, notice.messageId, parseParticipantId(ACCEPTOR.id), identification, {
              accept: true,
            }),
            // Every other expiry starts a little later, so that each side gets to commit first in some rounds.
            new Promise((resolve) => setTimeout(resolve, i % 2 === 0 ? 0 : 40)).then(() =>
              acceptanceExpiryStage(late)(job),
            ),
          ]);
          const events = (await c3.store.listEvidence(notice.messageId)).map((e) => e.event);
          const state = (await c3.store.getMessage(notice.messageId))!.state;
          const refusal =
            answer.status === 'rejected' ? (answer.reason as { code?: string }).code : undefined;
          return { answered: answer.status === 'fulfilled', refusal, events, state };
        }),
      );
      for (const { answered, refusal, events, state } of outcomes) {
        const accepted = events.includes('ConsignmentAcceptance');
        const expired = events.includes('AcceptanceRejectionExpiry');
        expect(accepted !== expired, events.join(', ')).toBe(true);
        expect(answered).toBe(accepted);
        if (!answered) expect(refusal).toBe('STATE_CONFLICT');
        expect(accepted ? ['accepted', 'consigned'] : ['failed']).toContain(state);
      }
    });

    it('an unreachable webhook: NotificationForAcceptanceFailure (RC05) after the retries, nothing consigned', async () => {
      const id = await submit(UNREACHABLE);
      const xml = await evidenceAtC2(id, 'NotificationForAcceptanceFailure');
      await checkEvidence(xml, 'NotificationForAcceptanceFailure', 'RC05');
      expect(parseEvidenceXml(xml).reason?.details).toMatch(
        /after 3 attempt\(s\): webhook .+ answered HTTP 503/,
      );
      expect((await c3MessageOf(id)).state).toBe('failed');
      expect(await c3ChainAtC2(id)).toEqual(['RelayAcceptance', 'NotificationForAcceptanceFailure']);
    });

    it('a webhook that is gone (410): NotificationForAcceptanceFailure (RC03) after one attempt, not retried', async () => {
      const id = await submit(GONE);
      const xml = await evidenceAtC2(id, 'NotificationForAcceptanceFailure');
      await checkEvidence(xml, 'NotificationForAcceptanceFailure', 'RC03');
      expect(parseEvidenceXml(xml).reason?.details).toMatch(
        /after 1 attempt\(s\): webhook .+ answered HTTP 410/,
      );
      await c2Reaches(id, 'failed');
    });

    it('mail channel: a signed REM notification (openssl) with the accept link; after acceptance the content follows by REM Dispatch', async () => {
      const id = await submit(MAILED);
      const notice = await waitFor(() => sink.mailsTo(MAILED.email)[0], { what: 'REM notification' });
      const file = join(work, `notice-${id}.eml`);
      writeFileSync(file, notice.raw);
      const smime = spawnSync(
        'openssl',
        ['cms', '-verify', '-CAfile', devPkiLayout(pkiDir).caCert, '-in', file, '-out', `${file}.content`],
        { encoding: 'utf8' },
      );
      expect(smime.stderr).toMatch(/Verification successful/);
      const parsed = await simpleParser(notice.raw);
      expect(parsed.subject).toBe('REM RelayAcceptance: Awaiting your acceptance: acceptance test');
      const c3Id = (await c3MessageOf(id)).id;
      expect(parsed.text).toContain(`${net.c3.url}/api/v1/messages/${c3Id}/accept`);
      // No content in a notice: only the introduction, the attached evidence and the signature.
      expect(notice.raw.toString('latin1')).not.toContain('rem_message/original');
      expect(parsed.attachments.map((a) => a.filename)).toContain('RelayAcceptance.xml');
      await checkEvidence(
        await evidenceAtC2(id, 'NotificationForAcceptance'),
        'NotificationForAcceptance',
        'RC01',
      );

      expect((await post(`${net.c3.url}/api/v1/messages/${c3Id}/accept`, MAILED.key)).status).toBe(200);
      await waitFor(
        () =>
          sink
            .mailsTo(MAILED.email)
            .find((m) =>
              m.raw.toString('latin1').includes('Subject: REM ContentConsignment: acceptance test'),
            ),
        { what: 'REM Dispatch' },
      );
      await evidenceAtC2(id, 'ContentHandover');
      expect(await c3ChainAtC2(id)).toEqual([
        'RelayAcceptance',
        'NotificationForAcceptance',
        'ConsignmentAcceptance',
        'ContentConsignment',
        'ContentHandover',
      ]);
    });

    it('store-and-notify: ConsignmentNotification with the pickup URL and no content, ContentHandover on pickup', async () => {
      const id = await submit(NOTIFIED);
      const notice = await noticeFor(id, 'ConsignmentNotification');
      expect(JSON.stringify(notice)).not.toContain('<Invoice>');
      expect(notice.acceptUrl).toBeUndefined();
      await checkEvidence(
        await evidenceAtC2(id, 'ConsignmentNotification'),
        'ConsignmentNotification',
        'RD01',
      );
      const entry = (await (await get(notice.pickupUrl, NOTIFIED.key)).json()) as {
        state: string;
        parts: { href: string }[];
      };
      expect(entry.state).toBe('consigned');
      expect((await get(notice.pickupUrl, ACCEPTOR.key)).status).toBe(404);
      const part = await get(net.c3.url + entry.parts[0]!.href, NOTIFIED.key);
      expect(await part.text()).toBe('<Invoice>42</Invoice>');
      await checkEvidence(await evidenceAtC2(id, 'ContentHandover'), 'ContentHandover', 'RE01');
      expect(await c3ChainAtC2(id)).toEqual([
        'RelayAcceptance',
        'ConsignmentNotification',
        'ContentHandover',
      ]);
    });

    it('store-and-notify to an unreachable webhook: ConsignmentNotificationFailure (RD05) after the retries', async () => {
      const id = await submit(NOTIFY_DOWN);
      const xml = await evidenceAtC2(id, 'ConsignmentNotificationFailure');
      await checkEvidence(xml, 'ConsignmentNotificationFailure', 'RD05');
      expect(parseEvidenceXml(xml).reason?.details).toMatch(/not notified after 3 attempt\(s\)/);
      expect(await c3ChainAtC2(id)).toEqual(['RelayAcceptance', 'ConsignmentNotificationFailure']);
      await c2Reaches(id, 'failed');
    });
  });
}
