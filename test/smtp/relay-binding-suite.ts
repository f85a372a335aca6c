import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  api,
  apiText,
  RECIPIENT,
  SENDER,
  startTwoAccessPoints,
  type TwoAccessPoints,
} from '../../src/harness/two-access-points.js';
import { streamToBuffer } from '../../src/pipeline/index.js';
import { loadSigningIdentity } from '../../src/pki/index.js';
import { buildRemMessage, composeOriginal } from '../../src/smtp/index.js';
import { sharedTestPki, foreignTestPki } from '../helpers/pki.js';
import { waitFor } from '../helpers/wait.js';
import { xmlsecVerify } from '../helpers/xmlsec.js';
import { startSmtpSink, type SmtpSink } from './smtp-sink.js';
import type { TwoAccessPointsMode } from '../integration/two-access-points-suite.js';
import { swaks, type SwaksResult } from './swaks.js';
import { accessPointInternals } from '../../src/access-point/internals.js';
import { claimPort } from '../helpers/ports.js';

/** Served by C3, but C2's directory sends it to a sink: the dispatch as it is on the wire, to look at and to replay. */
const CAPTURED = {
  id: '0188:5555555555555',
  name: 'Captured Recipient KK',
  key: 'captured-recipient-key-0123456789ab',
};
/** In the directory, served by C3, but no participant there: C3 refuses it at RCPT TO. */
const UNKNOWN = { id: '0188:4444444444444', name: 'Nobody At C3' };
/** Sent to the sink too, which answers 450 every time: a peer that stays unavailable. */
const BUSY = { id: '0188:3333333333333', name: 'Busy Recipient KK' };
/** Sent to the sink (which presents C3's TLS certificate), but the directory pins C2's TLS certificate for it. */
const WRONG_PIN = { id: '0188:6666666666666', name: 'Pinned Elsewhere KK' };
/** A sender at C2 for whom the directory pins another AP's seal (C3's): C3 refuses what C2 relays for it. */
const MISPINNED = {
  id: '0188:2222222222222',
  name: 'Mispinned Sender KK',
  key: 'mispinned-sender-key-0123456789abc',
};

const address = (id: string, domain: string) => `${id.replace(':', '-')}@${domain}`;

/**
 * The REM SMTP binding between access points (ETSI EN 319 522-4-1, REM messages of EN 319 532-3): two APs that
 * reach each other only over SMTP (their directory entries name `smtp://` endpoints), on loopback with STARTTLS.
 * C2 relays a REST submission as a signed, encrypted REM Dispatch; C3 checks the seal, receives it like an AS4
 * dispatch, and returns its evidence as REM Receipts to C2's relay listener. Independent checks: openssl cms
 * (decrypt, verify against the dev CA), xmlsec1 (the returned RelayAcceptance), swaks (refusals). Runs on the
 * embedded default (relay-binding.test.ts) and on PostgreSQL + BullMQ (test/integration/two-access-points-postgres.test.ts).
 */
export function describeSmtpRelayBinding(mode: TwoAccessPointsMode): void {
  describe(`REM SMTP relay binding between two access points${mode.label}`, () => {
    const pki = sharedTestPki();
    const work = mkdtempSync(join(tmpdir(), 'qerds-smtp-relay-'));
    const ports = { c2: 0, c3: 0 };
    let sink: SmtpSink;
    let aps: TwoAccessPoints;

    beforeAll(async () => {
      sink = await startSmtpSink({
        key: readFileSync(pki.ap('c3').tlsKey),
        cert: readFileSync(pki.ap('c3').tlsCert),
      });
      // Claimed, not port 0: each AP's directory names both APs' SMTP relay endpoints before either listens.
      [ports.c2, ports.c3] = await Promise.all([claimPort(), claimPort()]);
      const modeOverrides = await mode.overrides?.('smtp-relay');
      const sinkEndpoint = `smtp://127.0.0.1:${sink.port}?domain=c3.example`;
      aps = await startTwoAccessPoints({
        outDir: work,
        pkiDir: pki.dir,
        as4Endpoint: (name) => `smtp://127.0.0.1:${ports[name]}?domain=${name}.example`,
        overrides: (name) => ({
          ...modeOverrides?.(name),
          smtp: { domain: `${name}.example`, relay: { port: ports[name] } },
          relay: { maxAttempts: 2 },
        }),
        extraParticipants: [
          {
            id: CAPTURED.id,
            name: CAPTURED.name,
            servedBy: 'c3',
            endpoint: sinkEndpoint,
            account: { key: CAPTURED.key },
          },
          { id: UNKNOWN.id, name: UNKNOWN.name, servedBy: 'c3' },
          { id: BUSY.id, name: BUSY.name, servedBy: 'c3', endpoint: sinkEndpoint },
          {
            id: WRONG_PIN.id,
            name: WRONG_PIN.name,
            servedBy: 'c3',
            endpoint: sinkEndpoint,
            apTlsCertificate: pki.ap('c2').tlsCert,
          },
          {
            id: MISPINNED.id,
            name: MISPINNED.name,
            servedBy: 'c2',
            account: { key: MISPINNED.key },
            apCertificate: pki.ap('c3').sealCert,
          },
        ],
      });
    }, 60_000);
    afterAll(async () => {
      await aps?.stop();
      await sink?.close();
    });

    /** A REST submission at C2 with one binary part whose octets must arrive unchanged; C2's message id. */
    async function submit(recipient: string, body: Buffer, senderKey = SENDER.key): Promise<string> {
      const form = new FormData();
      form.set(
        'metadata',
        JSON.stringify({ recipient, subject: `Relay over SMTP ${randomBytes(3).toString('hex')}` }),
      );
      form.append(
        'payload',
        new Blob([new Uint8Array(body)], { type: 'application/octet-stream' }),
        'data.bin',
      );
      const submitted = await api<{ id: string }>(aps.c2.url, senderKey, '/api/v1/messages', {
        method: 'POST',
        body: form,
      });
      return submitted.id;
    }

    const stateAtC2 = (id: string, state: string) =>
      waitFor(
        async () =>
          (await accessPointInternals(aps.c2).context.store.getMessage(id))?.state === state
            ? state
            : undefined,
        { what: `C2 message ${id} ${state}`, timeoutMs: 40_000 },
      );

    /**
     * swaks (an SMTP client we did not write) at C3's relay listener, as C2 (`rem@c2.example`) to `to`, with
     * STARTTLS verified against the dev CA unless `tls` is false; `rest` adds to (and, later, overrides) that.
     */
    function swaksAtC3(to: string, rest: readonly string[], tls = true): Promise<SwaksResult> {
      const starttls = tls ? ['--tls', '--tls-verify', '--tls-ca-path', pki.caCert] : [];
      return swaks([
        '--server',
        '127.0.0.1',
        '--port',
        String(ports.c3),
        ...starttls,
        '--from',
        'rem@c2.example',
        '--to',
        to,
        ...rest,
      ]);
    }

    /** Sends a file as it is (DATA) to C3's relay listener. */
    const swaksToC3 = (file: string, to: string, extra: readonly string[] = []) =>
      swaksAtC3(to, ['--data', file, ...extra]);

    const c3MessagesFor = async (ebmsMessageId: string) =>
      (await accessPointInternals(aps.c3).context.store.listMessages({ limit: 1000 })).filter(
        (m) => m.ebmsMessageId === ebmsMessageId,
      );

    /** The dispatch C2 sent to the sink for CAPTURED (encrypted for C3), with C2's message. */
    let captured: { raw: Buffer; c2Id: string; ebmsMessageId: string; body: Buffer } | undefined;
    async function capturedDispatch() {
      if (captured) return captured;
      const body = Buffer.concat([randomBytes(64), Buffer.from('\r\n.\r\nline\n\rend')]);
      const c2Id = await submit(CAPTURED.id, body);
      const mail = await waitFor(() => sink.mailsTo(address(CAPTURED.id, 'c3.example'))[0], {
        what: 'the dispatch at the sink',
      });
      const message = await accessPointInternals(aps.c2).context.store.getMessage(c2Id);
      captured = { raw: mail.raw, c2Id, ebmsMessageId: message!.ebmsMessageId, body };
      return captured;
    }

    /** openssl cms -decrypt with C3's encryption key: the signed multipart/signed entity inside. */
    function decryptWithOpenssl(file: string, out: string): void {
      const c3 = pki.ap('c3');
      const result = spawnSync(
        'openssl',
        ['cms', '-decrypt', '-inkey', c3.encKey, '-recip', c3.encCert, '-in', file, '-out', out],
        { encoding: 'utf8' },
      );
      expect(result.status, result.stderr).toBe(0);
    }

    it('a REST submission travels C2 → C3 over SMTP and C2 ends with SubmissionAcceptance → RelayAcceptance (C3) → ContentConsignment', async () => {
      const body = Buffer.concat([Buffer.from('<Invoice>\r\n.\r\n</Invoice>\n'), randomBytes(300)]);
      const id = await submit(RECIPIENT.id, body);
      await waitFor(
        async () => {
          const chain = await api<{ event: string }[]>(
            aps.c2.url,
            SENDER.key,
            `/api/v1/messages/${id}/evidence`,
          );
          return chain.some((e) => e.event === 'ContentConsignment') ? chain : undefined;
        },
        { what: 'ContentConsignment at C2', timeoutMs: 40_000 },
      );
      const recorded = await api<{ id: string; event: string; issuedBy: string; eventTime: string }[]>(
        aps.c2.url,
        SENDER.key,
        `/api/v1/messages/${id}/evidence`,
      );
      // C3 returns its two evidences in two notify jobs that run concurrently, each its own REM mail: C2 records
      // them in the order they arrive, which is not always the order C3 issued them in (seen once in CI). C3's
      // order is their event time; the chain at C2 is checked in that order.
      const [first, ...returned] = recorded;
      const chain = [first!, ...returned.sort((a, b) => a.eventTime.localeCompare(b.eventTime))];
      expect(chain.map((e) => e.event)).toEqual([
        'SubmissionAcceptance',
        'RelayAcceptance',
        'ContentConsignment',
      ]);
      expect(chain.map((e) => e.issuedBy)).toEqual([
        'urn:qerds-ap:ap:c2',
        'urn:qerds-ap:ap:c3',
        'urn:qerds-ap:ap:c3',
      ]);
      expect((await accessPointInternals(aps.c2).context.store.getMessage(id))?.state).toBe('relayed');

      // The RelayAcceptance C2 recorded is C3's, and its seal verifies with xmlsec1 against the dev CA.
      const relayAcceptance = await apiText(aps.c2.url, SENDER.key, `/api/v1/evidence/${chain[1]!.id}`);
      expect(relayAcceptance).toContain('http://uri.etsi.org/19522/Event/RelayAcceptance');
      const seal = xmlsecVerify(relayAcceptance, pki.caCert);
      expect(seal.ok, seal.output).toBe(true);

      // C4 gets the part's octets unchanged; the handover comes back to C2 over SMTP too.
      const inbox = await api<{ id: string; ebmsMessageId?: string; parts: { partId: string }[] }[]>(
        aps.c3.url,
        RECIPIENT.key,
        '/api/v1/inbox',
      );
      const ebmsMessageId = (await accessPointInternals(aps.c2).context.store.getMessage(id))!.ebmsMessageId;
      const atC3 = (await c3MessagesFor(ebmsMessageId))[0]!;
      const item = inbox.find((m) => m.id === atC3.id)!;
      const download = await fetch(`${aps.c3.url}/api/v1/inbox/${item.id}/parts/${item.parts[0]!.partId}`, {
        headers: { authorization: `Bearer ${RECIPIENT.key}` },
      });
      expect(Buffer.from(await download.arrayBuffer()).equals(body)).toBe(true);
      await stateAtC2(id, 'delivered');
      const events = (await accessPointInternals(aps.c2).context.store.listEvidence(id)).map((e) => e.event);
      expect(events).toContain('ContentHandover');
    }, 60_000);

    it('the dispatch on the wire is encrypted for C3, and inside it is an S/MIME REM Dispatch that openssl verifies against the dev CA', async () => {
      const { raw, ebmsMessageId } = await capturedDispatch();
      expect(raw.toString('latin1')).toMatch(
        /^Content-Type: application\/pkcs7-mime; smime-type=authEnveloped-data/m,
      );
      const file = join(work, 'captured.eml');
      writeFileSync(file, raw);
      decryptWithOpenssl(file, join(work, 'captured-signed.eml'));
      const verified = spawnSync(
        'openssl',
        [
          'cms',
          '-verify',
          '-CAfile',
          pki.caCert,
          '-in',
          join(work, 'captured-signed.eml'),
          '-out',
          join(work, 'captured.mime'),
        ],
        { encoding: 'utf8' },
      );
      expect(verified.status, verified.stderr).toBe(0);
      const signed = readFileSync(join(work, 'captured.mime'), 'latin1');
      expect(signed).toContain('REM-MessageType: Dispatch');
      expect(signed).toContain(`REM-MessageIdentifier: ${ebmsMessageId}`);
      expect(signed).toContain('REM-Section-Type: rem_message/original');
      expect(signed).toContain('REM-Section-Type: rem_message/xml_evidence');
      expect(signed).toContain('SubmissionAcceptance.xml');
    }, 60_000);

    it('C2 waits in relaying after the 250 until C3 returns its RelayAcceptance; a resent dispatch is not a second message at C3', async () => {
      const { raw, c2Id, ebmsMessageId, body } = await capturedDispatch();
      // The sink said 250 but issues no evidence: C2 has no proof of relay yet.
      await stateAtC2(c2Id, 'relaying');
      const file = join(work, 'replay.eml');
      writeFileSync(file, raw);
      const first = await swaksToC3(file, address(CAPTURED.id, 'c3.example'));
      expect(first.status, first.transcript).toBe(0);
      expect(first.replies).toContainEqual(expect.stringMatching(/^250 .*Message queued as /));
      const again = await swaksToC3(file, address(CAPTURED.id, 'c3.example'));
      expect(again.status, again.transcript).toBe(0);
      const atC3 = await c3MessagesFor(ebmsMessageId);
      expect(atC3).toHaveLength(1);
      expect(
        (await accessPointInternals(aps.c3).context.store.listEvidence(atC3[0]!.id)).filter(
          (e) => e.event === 'RelayAcceptance',
        ),
      ).toHaveLength(1);
      expect(
        (
          await streamToBuffer(
            accessPointInternals(aps.c3).context.store.blobs.get(atC3[0]!.parts[0]!.sha256),
          )
        ).equals(body),
      ).toBe(true);
      // C3's RelayAcceptance comes back over SMTP and moves C2's message on.
      await stateAtC2(c2Id, 'relayed');
    }, 60_000);

    it('a plaintext attempt (no STARTTLS) gets 530 5.7.0 at MAIL FROM (swaks)', async () => {
      const result = await swaksAtC3(address(RECIPIENT.id, 'c3.example'), ['--quit-after', 'RCPT'], false);
      expect(result.replies).toContainEqual('530 5.7.0 Must issue a STARTTLS command first');
      expect(result.transcript).not.toMatch(/^250 .*Accepted/m);
    }, 30_000);

    it('an unknown recipient gets 550 5.1.1 at RCPT TO (swaks), never a relay', async () => {
      const unknown = await swaksAtC3(address(UNKNOWN.id, 'c3.example'), ['--quit-after', 'RCPT']);
      expect(unknown.replies).toContainEqual(
        expect.stringMatching(/^550 5\.1\.1 recipient <0188-4444444444444@c3\.example> unknown$/),
      );
      const foreign = await swaksAtC3('someone@elsewhere.example', ['--quit-after', 'RCPT']);
      expect(foreign.replies).toContainEqual('550 5.7.1 relay access denied');
    }, 30_000);

    it('a dispatch sealed by a key outside the trust store gets 554 5.7.1 and C3 stores nothing', async () => {
      const { c2Id, ebmsMessageId } = await capturedDispatch();
      const acceptance = (await accessPointInternals(aps.c2).context.store.listEvidence(c2Id)).find(
        (e) => e.event === 'SubmissionAcceptance',
      )!;
      const stranger = foreignTestPki().ap('c2');
      const forged = await forgedDispatch(
        loadSigningIdentity(stranger.sealCert, stranger.sealKey),
        acceptance.xml,
        ebmsMessageId,
        'unknown-key',
      );
      const before = (await accessPointInternals(aps.c3).context.store.listMessages({ limit: 1000 })).length;
      const result = await swaksToC3(forged, address(CAPTURED.id, 'c3.example'));
      expect(result.replies).toContainEqual(
        expect.stringMatching(/^554 5\.7\.1 the seal's certificate is not valid under this AP's trust store/),
      );
      expect((await accessPointInternals(aps.c3).context.store.listMessages({ limit: 1000 })).length).toBe(
        before,
      );
    }, 60_000);

    it('a dispatch sealed by another trusted AP than the directory names for the sender gets 554 5.7.1', async () => {
      const { c2Id, ebmsMessageId } = await capturedDispatch();
      const acceptance = (await accessPointInternals(aps.c2).context.store.listEvidence(c2Id)).find(
        (e) => e.event === 'SubmissionAcceptance',
      )!;
      const c3 = pki.ap('c3');
      const forged = await forgedDispatch(
        loadSigningIdentity(c3.sealCert, c3.sealKey),
        acceptance.xml,
        `${ebmsMessageId}`,
        'other-ap',
      );
      const before = (await accessPointInternals(aps.c3).context.store.listMessages({ limit: 1000 })).length;
      const result = await swaksToC3(forged, address(CAPTURED.id, 'c3.example'));
      expect(result.replies).toContainEqual(
        '554 5.7.1 the evidence inside is sealed by another certificate than the REM message',
      );
      expect((await accessPointInternals(aps.c3).context.store.listMessages({ limit: 1000 })).length).toBe(
        before,
      );
    }, 60_000);

    it('a tampered dispatch gets 554: 5.7.5 when the ciphertext changed, 5.7.7 when the signed content changed', async () => {
      const { raw } = await capturedDispatch();
      const text = raw.toString('latin1');
      // One base64 character of the ciphertext, well inside the body.
      const at = text.indexOf('\r\n\r\n') + 400;
      const flipped = text.slice(0, at) + (text[at] === 'A' ? 'B' : 'A') + text.slice(at + 1);
      writeFileSync(join(work, 'tampered-cipher.eml'), flipped, 'latin1');
      const before = (await accessPointInternals(aps.c3).context.store.listMessages({ limit: 1000 })).length;
      const cipher = await swaksToC3(join(work, 'tampered-cipher.eml'), address(CAPTURED.id, 'c3.example'));
      expect(cipher.replies).toContainEqual(expect.stringMatching(/^554 5\.7\.5 /));

      // Opened with openssl, one character of the signed original changed, sent in the clear (signed only).
      writeFileSync(join(work, 'tamper-src.eml'), raw);
      decryptWithOpenssl(join(work, 'tamper-src.eml'), join(work, 'tamper-signed.mime'));
      const inner = readFileSync(join(work, 'tamper-signed.mime'), 'latin1');
      const outer = text
        .slice(0, text.indexOf('\r\n\r\n'))
        .split(/\r\n(?![ \t])/)
        .filter((l) => !/^(content-|mime-version)/i.test(l));
      const target = inner.indexOf('Registered message: the content is attached.');
      expect(target).toBeGreaterThan(0);
      const changed = inner.slice(0, target) + 'registered' + inner.slice(target + 'Registered'.length);
      writeFileSync(
        join(work, 'tampered-signed.eml'),
        outer.join('\r\n') + '\r\nMIME-Version: 1.0\r\n' + changed.replace(/\r?\n/g, '\r\n'),
        'latin1',
      );
      const signed = await swaksToC3(join(work, 'tampered-signed.eml'), address(CAPTURED.id, 'c3.example'));
      expect(signed.replies).toContainEqual(
        expect.stringMatching(/^554 5\.7\.7 S\/MIME signature: .*content changed after sealing/),
      );
      expect((await accessPointInternals(aps.c3).context.store.listMessages({ limit: 1000 })).length).toBe(
        before,
      );
    }, 60_000);

    it('C3 refusing the recipient at RCPT TO ends with RelayFailure RB10 (UnknownRecipient) at C2, not retried', async () => {
      const id = await submit(UNKNOWN.id, Buffer.from('nobody home'));
      await stateAtC2(id, 'failed');
      const evidence = await api<{ id: string; event: string }[]>(
        aps.c2.url,
        SENDER.key,
        `/api/v1/messages/${id}/evidence`,
      );
      expect(evidence.map((e) => e.event)).toEqual(['SubmissionAcceptance', 'RelayFailure']);
      const xml = await apiText(aps.c2.url, SENDER.key, `/api/v1/evidence/${evidence[1]!.id}`);
      expect(xml).toContain('http://uri.etsi.org/19522/EventReason/UnknownRecipient');
      expect(xml).toMatch(/550 5\.1\.1/);
      expect((await accessPointInternals(aps.c2).context.store.getMessage(id))?.attempts).toBe(1);
    }, 60_000);

    it('C3 refusing the seal (not the AP the directory pins for the sender: 554 5.7.1) ends with RelayFailure RB05 at C2', async () => {
      const before = (await accessPointInternals(aps.c3).context.store.listMessages({ limit: 1000 })).length;
      const id = await submit(
        RECIPIENT.id,
        Buffer.from('from a sender whose AP is pinned otherwise'),
        MISPINNED.key,
      );
      await stateAtC2(id, 'failed');
      const failure = (await accessPointInternals(aps.c2).context.store.listEvidence(id)).find(
        (e) => e.event === 'RelayFailure',
      )!;
      expect(failure.xml).toContain(
        'http://uri.etsi.org/19522/EventReason/R_ERDS_MessageRejectedForInvalidCertificate',
      );
      expect(failure.xml).toMatch(
        /554 5\.7\.1 the seal is not that of the access point the directory names for 0188:2222222222222/,
      );
      expect((await accessPointInternals(aps.c2).context.store.getMessage(id))?.attempts).toBe(1);
      expect((await accessPointInternals(aps.c3).context.store.listMessages({ limit: 1000 })).length).toBe(
        before,
      );
    }, 60_000);

    it('a peer whose TLS certificate is not the one the directory pins gets nothing (no plaintext fallback): retried, then RB09', async () => {
      const to = address(WRONG_PIN.id, 'c3.example');
      const id = await submit(WRONG_PIN.id, Buffer.from('for a pinned peer only'));
      await stateAtC2(id, 'failed');
      const failure = (await accessPointInternals(aps.c2).context.store.listEvidence(id)).find(
        (e) => e.event === 'RelayFailure',
      )!;
      expect(failure.xml).toContain('http://uri.etsi.org/19522/EventReason/R_ERDS_Unreachable');
      expect(failure.xml).toMatch(/matches none of the 1 pin\(s\) the directory gives for this peer/);
      // The handshake failed before any mail transaction: the sink saw no RCPT and no mail for it.
      expect(sink.rcpts.filter((r) => r.to === to)).toHaveLength(0);
      expect(sink.mailsTo(to)).toHaveLength(0);
    }, 60_000);

    it('a peer answering 450 every time is retried, then RelayFailure RB09 (R_ERDS_Unreachable)', async () => {
      const to = address(BUSY.id, 'c3.example');
      sink.plan(to, [450, 450, 450, 450]);
      const id = await submit(BUSY.id, Buffer.from('try later'));
      await stateAtC2(id, 'failed');
      const failure = (await accessPointInternals(aps.c2).context.store.listEvidence(id)).find(
        (e) => e.event === 'RelayFailure',
      )!;
      expect(failure.xml).toContain('http://uri.etsi.org/19522/EventReason/R_ERDS_Unreachable');
      expect(sink.rcpts.filter((r) => r.to === to).map((r) => r.code)).toEqual([450, 450]);
    }, 60_000);

    /** A REM Dispatch like C2's (the same SubmissionAcceptance inside), sealed by `signer`, written to a file. */
    async function forgedDispatch(
      signer: ReturnType<typeof loadSigningIdentity>,
      evidenceXml: string,
      ebmsMessageId: string,
      name: string,
    ): Promise<string> {
      const original = await composeOriginal({
        from: { name: SENDER.id, address: 'rem@c2.example' },
        subject: 'forged',
        date: new Date(),
        parts: [{ partId: 'part-1', contentType: 'text/plain', body: Buffer.from('forged') }],
        exact: true,
      });
      const rem = buildRemMessage({
        event: 'SubmissionAcceptance',
        evidenceXml,
        original,
        subject: 'forged',
        from: { address: 'rem@c2.example' },
        to: [{ address: address(CAPTURED.id, 'c3.example') }],
        messageType: 'Dispatch',
        signer,
        remHeaders: { 'REM-MessageIdentifier': ebmsMessageId },
      });
      const file = join(work, `${name}.eml`);
      writeFileSync(file, rem.raw);
      return file;
    }
  });
}
