import { spawnSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { simpleParser } from 'mailparser';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  api,
  apiText,
  RECIPIENT,
  SENDER,
  type TwoAccessPoints,
} from '../../src/harness/two-access-points.js';
import { verifyEvidence } from '../../src/evidence/index.js';
import { loadTrustStore } from '../../src/pki/index.js';
import { qerdsInProcess } from '../helpers/cli.js';
import { sharedTestPki } from '../helpers/pki.js';
import {
  senderSubmissionSmtp,
  SENDER_EMAIL,
  SENDER_PASSWORD,
  startMailNetwork,
  type MailNetwork,
} from './mail-fixtures.js';
import type { SinkMail, SmtpSink } from './smtp-sink.js';
import { swaks } from './swaks.js';
import { waitFor } from '../helpers/wait.js';
import { accessPointInternals } from '../../src/access-point/internals.js';

const RECIPIENT_EMAIL = 'soumu@test-works.example';

interface EvidenceView {
  id: string;
  event: string;
}

/**
 * Registered e-mail end to end: mail in at C2 (swaks, STARTTLS + AUTH) → AS4 → C3 → REM Dispatch out by
 * SMTP to a local sink standing for the recipient's mail server, and every evidence back at the sender by
 * REST (C2's API) and by mail (REM Receipts in the sender's mailbox at the same sink).
 */
describe('registered e-mail: C2 SMTP intake → AS4 → C3 → REM Dispatch to the recipient mail server', () => {
  const pki = sharedTestPki();
  const work = mkdtempSync(join(tmpdir(), 'qerds-mail-delivery-'));
  let net: MailNetwork;
  let sink: SmtpSink;
  let aps: TwoAccessPoints;

  beforeAll(async () => {
    // The sink presents the dev PKI's TLS certificate (SAN 127.0.0.1); the APs require STARTTLS and verify it.
    const submission = await senderSubmissionSmtp();
    net = await startMailNetwork(pki, work, (name, outbound) =>
      name === 'c2'
        ? {
            smtp: { ...submission, outbound },
            relay: { maxAttempts: 3 },
            accounts: [
              {
                participant: SENDER.id,
                name: SENDER.name,
                credentials: [
                  { kind: 'apiKey', keySha256: createHash('sha256').update(randomBytes(32)).digest('hex') },
                ],
                // The REM Receipts to the sender name the recipient, the subject and the events: encrypted for the
                // sender's certificate (here the dev PKI's "bob"), in the default form its mail client opens.
                deliveryCertificate: pki.recipient('bob').cert,
              },
            ],
          }
        : {
            smtp: { domain: 'c3.example', outbound },
            relay: { maxAttempts: 3 },
            accounts: [
              {
                participant: RECIPIENT.id,
                name: RECIPIENT.name,
                credentials: [
                  { kind: 'apiKey', keySha256: createHash('sha256').update(randomBytes(32)).digest('hex') },
                ],
                deliveryEmail: RECIPIENT_EMAIL,
                // Dispatches to the recipient are encrypted for its certificate (S/MIME signed then enveloped),
                // in the default `deliveryEncryption` form, aes256-cbc: the one Outlook and Thunderbird open.
                deliveryCertificate: pki.recipient('alice').cert,
              },
            ],
          },
    );
    ({ sink, aps } = net);
  }, 60_000);
  afterAll(() => net?.stop());

  async function submit(subject: string): Promise<string> {
    const result = await swaks([
      '--server',
      '127.0.0.1',
      '--port',
      String(aps.c2.smtpAddress!.port),
      '--tls',
      '--tls-verify',
      '--tls-ca-path',
      pki.caCert,
      '--auth',
      'PLAIN',
      '--auth-user',
      'sample-trading',
      '--auth-password',
      SENDER_PASSWORD,
      '--from',
      SENDER_EMAIL,
      '--to',
      '0188-9876543210987@ap.example',
      '--header',
      `Subject: ${subject}`,
      '--body',
      `Body of ${subject}\n`,
    ]);
    expect(result.status, result.transcript).toBe(0);
    const queued = /^250 2\.6\.0 Message queued as (\S+)$/m.exec(result.transcript);
    expect(queued, result.transcript).not.toBeNull();
    return queued![1]!;
  }

  const evidenceAtC2 = (messageId: string) =>
    api<EvidenceView[]>(aps.c2.url, SENDER.key, `/api/v1/messages/${messageId}/evidence`);

  function openssl(...args: string[]) {
    return spawnSync('openssl', args, { encoding: 'utf8' });
  }

  /** openssl verifies the S/MIME signature against the dev CA; returns the signed multipart/mixed entity. */
  function verifySmime(mail: SinkMail, name: string): Buffer {
    const file = join(work, `${name}.eml`);
    const out = join(work, `${name}.content.mime`);
    writeFileSync(file, mail.raw);
    const result = openssl('cms', '-verify', '-CAfile', pki.caCert, '-in', file, '-out', out);
    expect(result.status, result.stderr).toBe(0);
    expect(result.stderr).toMatch(/Verification successful/);
    return readFileSync(out);
  }

  /**
   * `openssl smime` (the classic PKCS#7 tool) decrypts a REM message with the key of `holder` (alice: the
   * recipient, bob: the sender), then verifies it as above.
   */
  function decryptAndVerify(mail: SinkMail, name: string, holder: 'alice' | 'bob' = 'alice'): Buffer {
    const file = join(work, `${name}.encrypted.eml`);
    writeFileSync(file, mail.raw);
    const recipient = pki.recipient(holder);
    const out = join(work, `${name}.decrypted.eml`);
    const decrypted = openssl(
      'smime',
      '-decrypt',
      '-in',
      file,
      '-inkey',
      recipient.key,
      '-recip',
      recipient.cert,
      '-out',
      out,
    );
    expect(decrypted.status, decrypted.stderr).toBe(0);
    return verifySmime({ ...mail, raw: readFileSync(out) }, name);
  }

  const receiptsFor = (subject: string) =>
    sink.mailsTo(SENDER_EMAIL).filter((m) => headerOf(m.raw, 'Subject').endsWith(`: ${subject}`));

  it('delivers a signed REM Dispatch (250 → ContentHandover) and mails every evidence back to the sender', async () => {
    const subject = `Invoice 2026-0042 ${randomBytes(3).toString('hex')}`;
    const messageId = await submit(subject);

    // The recipient's mail server got one REM Dispatch, signed by C3's e-seal (openssl, against the dev CA).
    const dispatch = await waitFor(async () =>
      sink
        .mailsTo(RECIPIENT_EMAIL)
        .find((m) => headerOf(m.raw, 'Subject') === `REM ContentConsignment: ${subject}`),
    );
    expect(dispatch.from).toBe('rem@c3.example');
    expect(headerOf(dispatch.raw, 'REM-MessageType')).toBe('Dispatch');
    expect(headerOf(dispatch.raw, 'Content-Type')).toMatch(
      /^application\/pkcs7-mime; smime-type=enveloped-data/,
    );
    const signed = decryptAndVerify(dispatch, 'dispatch');
    const inner = await simpleParser(signed);
    // The original is the mail C1 submitted, byte for byte: its digest is the one C2 recorded.
    const original = sectionBody(signed, 'rem_message/original');
    expect(original.toString('utf8')).toContain(`Body of ${subject}`);
    const sent = await api<{ parts: { sha256: string }[] }>(
      aps.c2.url,
      SENDER.key,
      `/api/v1/messages/${messageId}`,
    );
    expect(createHash('sha256').update(original).digest('hex')).toBe(sent.parts[0]!.sha256);
    // The attached evidence is C3's ContentConsignment about this message, and its XAdES seal verifies.
    const evidenceXml = inner.attachments
      .find((a) => a.filename === 'ContentConsignment.xml')!
      .content.toString('utf8');
    const report = await verifyEvidence(evidenceXml, { trust: loadTrustStore([pki.caCert, pki.caCrl]) });
    expect(report.indication).toBe('TOTAL-PASSED');
    expect(report.evidence?.event).toBe('ContentConsignment');
    // The qerds CLI opens the delivered mail with the recipient's key and verifies all of it (in this
    // process: the one real launch of `qerds verify` is in test/cli/verify-command.test.ts).
    const recipient = pki.recipient('alice');
    const cli = await qerdsInProcess([
      'verify',
      join(work, 'dispatch.encrypted.eml'),
      '--trust',
      pki.caCert,
      '--trust',
      pki.caCrl,
      '--decrypt-key',
      recipient.key,
      '--decrypt-cert',
      recipient.cert,
    ]);
    expect(cli.status, `${cli.stdout}${cli.stderr}`).toBe(0);
    expect(cli.stdout).toMatch(
      /^VALID: REM message \(Dispatch\)[\s\S]*evidence ContentConsignment\.xml: [\s\S]*encrypted: aes256-cbc with rsaes-pkcs1-v1_5/,
    );

    // C2 (REST): the whole chain, ending with ContentHandover issued by C3 once the mail server said 250.
    const chain = await waitFor(async () => {
      const list = await evidenceAtC2(messageId);
      return list.some((e) => e.event === 'ContentHandover') ? list : undefined;
    });
    expect(chain.map((e) => e.event)).toEqual(
      expect.arrayContaining([
        'SubmissionAcceptance',
        'RelayAcceptance',
        'ContentConsignment',
        'ContentHandover',
      ]),
    );
    const handover = await apiText(
      aps.c2.url,
      SENDER.key,
      `/api/v1/evidence/${chain.find((e) => e.event === 'ContentHandover')!.id}`,
    );
    expect(
      (await verifyEvidence(handover, { trust: loadTrustStore([pki.caCert, pki.caCrl]) })).indication,
    ).toBe('TOTAL-PASSED');
    expect(handover).toContain('RE01');

    // C1 (mail): one signed REM Receipt per evidence, each carrying that evidence.
    const receipts = await waitFor(async () => {
      const got = receiptsFor(subject);
      return got.length >= chain.length ? got : undefined;
    });
    expect(receipts.map((m) => headerOf(m.raw, 'Subject').split(':')[0]).sort()).toEqual(
      chain.map((e) => `REM ${e.event}`).sort(),
    );
    for (const [i, receipt] of receipts.entries()) {
      expect(headerOf(receipt.raw, 'REM-MessageType')).toBe('Receipt');
      expect(headerOf(receipt.raw, 'Content-Type')).toMatch(
        /^application\/pkcs7-mime; smime-type=enveloped-data/,
      );
      // Only the sender's key opens it: the recipient's does not.
      writeFileSync(join(work, `receipt-${i}.eml`), receipt.raw);
      const alice = pki.recipient('alice');
      expect(
        openssl(
          'smime',
          '-decrypt',
          '-in',
          join(work, `receipt-${i}.eml`),
          '-inkey',
          alice.key,
          '-recip',
          alice.cert,
        ).status,
      ).not.toBe(0);
      const content = await simpleParser(decryptAndVerify(receipt, `receipt-${i}`, 'bob'));
      const xml = content.attachments
        .find((a) => a.contentType === 'application/xml')!
        .content.toString('utf8');
      const ids = chain.map((e) => e.id);
      expect(ids.some((id) => xml.includes(id))).toBe(true);
    }
    const text = receipts
      .map((_m, i) => readFileSync(join(work, `receipt-${i}.decrypted.eml`)).toString('latin1'))
      .join('\n');
    expect(text).toContain('rem_message/xml_evidence');
    expect(text).not.toContain('rem_message/original'); // receipts do not carry the content back
  }, 60_000);

  it('a 550 from the recipient mail server ends in ContentHandoverFailure, at C2 and in the sender mailbox', async () => {
    sink.plan(RECIPIENT_EMAIL, [550]);
    const subject = `Refused ${randomBytes(3).toString('hex')}`;
    const messageId = await submit(subject);
    const chain = await waitFor(async () => {
      const list = await evidenceAtC2(messageId);
      return list.some((e) => e.event === 'ContentHandoverFailure') ? list : undefined;
    });
    expect(chain.map((e) => e.event)).not.toContain('ContentHandover');
    const failure = await apiText(
      aps.c2.url,
      SENDER.key,
      `/api/v1/evidence/${chain.find((e) => e.event === 'ContentHandoverFailure')!.id}`,
    );
    expect(failure).toContain('http://uri.etsi.org/19522/EventReason/Other');
    expect(failure).toMatch(/SMTP 550 5\.1\.1 mailbox unavailable/);
    const mailed = await waitFor(async () =>
      receiptsFor(subject).find((m) => headerOf(m.raw, 'Subject').startsWith('REM ContentHandoverFailure:')),
    );
    decryptAndVerify(mailed, 'failure-receipt', 'bob');
    expect(
      sink.mailsTo(RECIPIENT_EMAIL).filter((m) => headerOf(m.raw, 'Subject').endsWith(subject)),
    ).toHaveLength(0);
    const atC3 = (
      await accessPointInternals(aps.c3).context.store.listMessages({ state: 'failed', limit: 100 })
    ).filter((m) => m.subject === subject);
    expect(atC3).toHaveLength(1);
  }, 60_000);

  it('a 450 is retried: delivered once on the next attempt', async () => {
    sink.plan(RECIPIENT_EMAIL, [450]);
    const before = sink.rcpts.filter((r) => r.to === RECIPIENT_EMAIL).length;
    const subject = `Retried ${randomBytes(3).toString('hex')}`;
    const messageId = await submit(subject);
    await waitFor(async () =>
      (await evidenceAtC2(messageId)).some((e) => e.event === 'ContentHandover') ? true : undefined,
    );
    expect(
      sink.rcpts
        .filter((r) => r.to === RECIPIENT_EMAIL)
        .slice(before)
        .map((r) => r.code),
    ).toEqual([450, 250]);
    expect(
      sink.mailsTo(RECIPIENT_EMAIL).filter((m) => headerOf(m.raw, 'Subject').endsWith(subject)),
    ).toHaveLength(1);
    expect((await evidenceAtC2(messageId)).map((e) => e.event)).not.toContain('ContentHandoverFailure');
  }, 60_000);

  it('4xx until the retry budget is spent: ContentHandoverFailure (RE04, MessageHandoverTimeout)', async () => {
    sink.plan(RECIPIENT_EMAIL, [451, 451, 451]);
    const subject = `Timeout ${randomBytes(3).toString('hex')}`;
    const messageId = await submit(subject);
    const chain = await waitFor(async () => {
      const list = await evidenceAtC2(messageId);
      return list.some((e) => e.event === 'ContentHandoverFailure') ? list : undefined;
    });
    const failure = await apiText(
      aps.c2.url,
      SENDER.key,
      `/api/v1/evidence/${chain.find((e) => e.event === 'ContentHandoverFailure')!.id}`,
    );
    expect(failure).toContain('http://uri.etsi.org/19522/EventReason/MessageHandoverTimeout');
    expect(failure).toMatch(/after 3 attempts; last: SMTP 451/);
    expect(
      sink.mailsTo(RECIPIENT_EMAIL).filter((m) => headerOf(m.raw, 'Subject').endsWith(subject)),
    ).toHaveLength(0);
  }, 60_000);
});

/** The body of the section of a signed REM multipart/mixed entity with the given REM-Section-Type. */
function sectionBody(entity: Buffer, sectionType: string): Buffer {
  const text = entity.toString('latin1');
  const boundary = /boundary="([^"]+)"/.exec(text)![1]!;
  const part = text.split(`\r\n--${boundary}`).find((p) => p.includes(`REM-Section-Type: ${sectionType}`))!;
  return Buffer.from(part.slice(part.indexOf('\r\n\r\n') + 4), 'latin1');
}

/** An unfolded header value of a raw mail (RFC 5322 §2.2.3), decoded when it is an encoded-word. */
function headerOf(raw: Buffer, name: string): string {
  const head = raw
    .subarray(0, raw.indexOf('\r\n\r\n'))
    .toString('utf8')
    .replace(/\r\n[ \t]+/g, ' ');
  const line = head.split('\r\n').find((l) => l.toLowerCase().startsWith(`${name.toLowerCase()}:`));
  return line ? line.slice(name.length + 1).trim() : '';
}
