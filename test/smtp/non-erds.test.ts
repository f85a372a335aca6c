import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { api, apiText, SENDER, type TwoAccessPoints } from '../../src/harness/two-access-points.js';
import { sharedTestPki } from '../helpers/pki.js';
import { waitFor } from '../helpers/wait.js';
import { xmllintEvidence, xmlsecVerify } from '../helpers/xmlsec.js';
import {
  senderSubmissionSmtp,
  SENDER_EMAIL,
  SENDER_PASSWORD,
  startMailNetwork,
  type MailNetwork,
} from './mail-fixtures.js';
import type { SmtpSink } from './smtp-sink.js';
import { swaks } from './swaks.js';
import { accessPointInternals } from '../../src/access-point/internals.js';

/**
 * Relay to a recipient outside any ERDS (EN 319 522-1 group F): with `smtp.relayToNonErds`, an authenticated
 * sender may address a plain e-mail address no directory knows; C2 accepts it (SubmissionAcceptance), mails
 * it as a signed REM Dispatch through the outbound SMTP server (here a sink standing for the outside mail
 * server), and issues RelayToNonERDS on 250 or RelayToNonERDSFailure on 5xx. Evidence checked with xmllint
 * (EN 319 522-3 XSD) and xmlsec1 (seal against the dev CA).
 */
describe('relay to non-ERDS recipients by mail (RelayToNonERDS / RelayToNonERDSFailure)', () => {
  const pki = sharedTestPki();
  const work = mkdtempSync(join(tmpdir(), 'qerds-non-erds-'));
  let net: MailNetwork;
  let sink: SmtpSink;
  let aps: TwoAccessPoints;

  beforeAll(async () => {
    const submission = await senderSubmissionSmtp();
    net = await startMailNetwork(pki, work, (name, outbound) =>
      name === 'c2'
        ? { smtp: { ...submission, outbound, relayToNonErds: true }, relay: { maxAttempts: 2 } }
        : {},
    );
    ({ sink, aps } = net);
  }, 60_000);
  afterAll(() => net?.stop());

  async function submit(
    to: string,
    subject: string,
  ): Promise<{ status: number | null; transcript: string; replies: readonly string[]; id?: string }> {
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
      to,
      '--header',
      `Subject: ${subject}`,
      '--body',
      `Body of ${subject}\n`,
    ]);
    const id = /^250 2\.6\.0 Message queued as (\S+)$/m.exec(result.transcript)?.[1];
    return { ...result, ...(id ? { id } : {}) };
  }

  async function evidenceOf(messageId: string, event: string): Promise<string> {
    const chain = await waitFor(async () => {
      const list = await api<{ id: string; event: string }[]>(
        aps.c2.url,
        SENDER.key,
        `/api/v1/messages/${messageId}/evidence`,
      );
      return list.some((e) => e.event === event) ? list : undefined;
    });
    return apiText(aps.c2.url, SENDER.key, `/api/v1/evidence/${chain.find((e) => e.event === event)!.id}`);
  }

  /** Independent checks: the EN 319 522-3 XSD (xmllint) and the XAdES seal (xmlsec1, dev CA). */
  function checkIndependently(xml: string): void {
    const schema = xmllintEvidence(xml);
    expect(schema.ok, schema.output).toBe(true);
    const seal = xmlsecVerify(xml, pki.caCert);
    expect(seal.ok, seal.output).toBe(true);
  }

  it('250 from the outside mail server: signed REM Dispatch sent, RelayToNonERDS (RF01) issued and mailed to the sender', async () => {
    const to = `someone-${randomBytes(3).toString('hex')}@outside.example`;
    const subject = `Quote ${randomBytes(3).toString('hex')}`;
    const submitted = await submit(to, subject);
    expect(submitted.status, submitted.transcript).toBe(0);
    const mail = await waitFor(async () => sink.mailsTo(to)[0]);
    expect(mail.from).toBe('rem@ap.example');
    const file = join(work, 'dispatch.eml');
    writeFileSync(file, mail.raw);
    const verified = spawnSync(
      'openssl',
      ['cms', '-verify', '-CAfile', pki.caCert, '-in', file, '-out', join(work, 'dispatch.mime')],
      { encoding: 'utf8' },
    );
    expect(verified.status, verified.stderr).toBe(0);
    const signed = readFileSync(join(work, 'dispatch.mime'), 'latin1');
    expect(signed).toContain('REM-Section-Type: rem_message/original');
    expect(signed).toContain(`Body of ${subject}`);
    expect(signed).toContain('REM-MessageType: Dispatch');

    const xml = await evidenceOf(submitted.id!, 'RelayToNonERDS');
    expect(xml).toContain('http://uri.etsi.org/19522/Event/RelayToNonERDS');
    expect(xml).toContain('http://uri.etsi.org/19522/EventReason/MessageRelayedToNonERDS');
    expect(xml).toContain(to);
    checkIndependently(xml);
    const receipt = await waitFor(async () =>
      sink
        .mailsTo(SENDER_EMAIL)
        .find((m) => m.raw.toString('latin1').includes(`Subject: REM RelayToNonERDS: ${subject}`)),
    );
    expect(receipt).toBeDefined();
    expect((await accessPointInternals(aps.c2).context.store.getMessage(submitted.id!))?.state).toBe(
      'delivered',
    );
  }, 60_000);

  it('550 from the outside mail server: RelayToNonERDSFailure (RF03, MessageRejectedByExternalSystem) with the reply', async () => {
    const to = `nobody-${randomBytes(3).toString('hex')}@outside.example`;
    sink.plan(to, [550]);
    const submitted = await submit(to, `Refused ${randomBytes(3).toString('hex')}`);
    expect(submitted.status, submitted.transcript).toBe(0);
    const xml = await evidenceOf(submitted.id!, 'RelayToNonERDSFailure');
    expect(xml).toContain('http://uri.etsi.org/19522/EventReason/MessageRejectedByExternalSystem');
    expect(xml).toMatch(/SMTP 550/);
    checkIndependently(xml);
    expect(sink.mailsTo(to)).toHaveLength(0);
    expect((await accessPointInternals(aps.c2).context.store.getMessage(submitted.id!))?.state).toBe(
      'failed',
    );
  }, 60_000);

  it('an unknown address of our own domain is still unknown (550 5.1.1), not relayed outside', async () => {
    const refused = await submit('0188-0000000000000@ap.example', 'Unknown local');
    expect(refused.status).not.toBe(0);
    expect(refused.replies).toContainEqual(expect.stringMatching(/^550 5\.1\.1 recipient <.+> unknown$/));
  }, 60_000);
});
