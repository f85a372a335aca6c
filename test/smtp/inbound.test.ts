import { spawnSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RECIPIENT, type TwoAccessPoints } from '../../src/harness/two-access-points.js';
import { sharedTestPki } from '../helpers/pki.js';
import { waitFor } from '../helpers/wait.js';
import { xmllintEvidence, xmlsecVerify } from '../helpers/xmlsec.js';
import { startMailNetwork, type MailNetwork } from './mail-fixtures.js';
import type { SmtpSink } from './smtp-sink.js';
import { swaks } from './swaks.js';
import { accessPointInternals } from '../../src/access-point/internals.js';

const RECIPIENT_EMAIL = 'soumu@test-works.example';
const RECIPIENT_ADDRESS = '0188-9876543210987@c3.example';

/**
 * Mail from outside any ERDS (EN 319 522-1 ReceivedFromNonERDS): C3's inbound MX-style listener takes plain
 * mail (swaks, no AUTH) for its local participants only, records ReceivedFromNonERDS with the envelope sender
 * as an unauthenticated identity, and the message goes on like any other (consigned, REM Dispatch to the
 * recipient's mailbox, here an SMTP sink). Never a relay; AUTH is not offered there.
 */
describe('inbound listener: mail from outside any ERDS → ReceivedFromNonERDS', () => {
  const pki = sharedTestPki();
  const work = mkdtempSync(join(tmpdir(), 'qerds-inbound-'));
  let net: MailNetwork;
  let sink: SmtpSink;
  let aps: TwoAccessPoints;

  beforeAll(async () => {
    net = await startMailNetwork(pki, work, (name, outbound) =>
      name === 'c3'
        ? {
            smtp: { domain: 'c3.example', outbound, inbound: { port: 0 } },
            accounts: [
              {
                participant: RECIPIENT.id,
                name: RECIPIENT.name,
                credentials: [
                  { kind: 'apiKey', keySha256: createHash('sha256').update(randomBytes(32)).digest('hex') },
                ],
                deliveryEmail: RECIPIENT_EMAIL,
              },
            ],
          }
        : {},
    );
    ({ sink, aps } = net);
  }, 60_000);
  afterAll(() => net?.stop());

  const send = (to: string, subject: string, ...extra: string[]) =>
    swaks([
      '--server',
      '127.0.0.1',
      '--port',
      String(aps.c3.smtpInboundAddress!.port),
      '--from',
      'stranger@outside.example',
      '--to',
      to,
      '--header',
      `Subject: ${subject}`,
      '--body',
      `Body of ${subject}\n`,
      ...extra,
    ]);

  async function receivedEvidence(messageId: string): Promise<string> {
    const evidence = await waitFor(async () =>
      (await accessPointInternals(aps.c3).context.store.listEvidence(messageId)).find(
        (e) => e.event === 'ReceivedFromNonERDS',
      ),
    );
    return evidence.xml;
  }

  it('STARTTLS, no AUTH: accepted for a local participant, ReceivedFromNonERDS (RF04) issued, then consigned and mailed as a REM Dispatch', async () => {
    const subject = `From outside ${randomBytes(3).toString('hex')}`;
    const result = await send(
      RECIPIENT_ADDRESS,
      subject,
      '--tls',
      '--tls-verify',
      '--tls-ca-path',
      pki.caCert,
    );
    expect(result.status, result.transcript).toBe(0);
    expect(result.replies.some((r) => /^250[- ]AUTH/.test(r))).toBe(false); // AUTH is not offered at all
    const messageId = /^250 2\.6\.0 Message queued as (\S+)$/m.exec(result.transcript)![1]!;

    const xml = await receivedEvidence(messageId);
    expect(xml).toContain('http://uri.etsi.org/19522/Event/ReceivedFromNonERDS');
    expect(xml).toContain('http://uri.etsi.org/19522/EventReason/MessageReceivedFromNonERDS');
    expect(xml).toContain('stranger@outside.example');
    expect(xml).toContain('urn:qerds-ap:authentication:unauthenticated-smtp-envelope');
    expect(xml).toMatch(/sender not authenticated/);
    const schema = xmllintEvidence(xml);
    expect(schema.ok, schema.output).toBe(true);
    const seal = xmlsecVerify(xml, pki.caCert);
    expect(seal.ok, seal.output).toBe(true);

    const message = await accessPointInternals(aps.c3).context.store.getMessage(messageId);
    expect(message?.sender).toEqual({ scheme: 'email', value: 'stranger@outside.example' });
    expect(message?.peer).toBe('non-erds:smtp');
    // It goes on like a relayed message: a signed REM Dispatch reaches the recipient's mailbox.
    const dispatch = await waitFor(async () =>
      sink
        .mailsTo(RECIPIENT_EMAIL)
        .find((m) => m.raw.toString('latin1').includes(`Subject: REM ContentConsignment: ${subject}`)),
    );
    const eml = join(work, 'dispatch.eml');
    writeFileSync(eml, dispatch.raw);
    const verified = spawnSync(
      'openssl',
      ['cms', '-verify', '-CAfile', pki.caCert, '-in', eml, '-out', join(work, 'dispatch.mime')],
      { encoding: 'utf8' },
    );
    expect(verified.status, verified.stderr).toBe(0);
    await waitFor(async () =>
      (await accessPointInternals(aps.c3).context.store.getMessage(messageId))?.state === 'delivered'
        ? true
        : undefined,
    );
    // The sender has no ERDS: its evidence is not sent anywhere, and no job is left dead trying to.
    const chain = (await accessPointInternals(aps.c3).context.store.listEvidence(messageId)).map(
      (e) => e.event,
    );
    expect(chain).toEqual(
      expect.arrayContaining(['ReceivedFromNonERDS', 'ContentConsignment', 'ContentHandover']),
    );
    expect(
      (await accessPointInternals(aps.c3).context.store.listDeadLetters()).filter(
        (d) => d.messageId === messageId,
      ),
    ).toEqual([]);
  }, 60_000);

  it('without TLS too (a public MX must not require it), the evidence says so', async () => {
    const result = await send(RECIPIENT_ADDRESS, 'Plain');
    expect(result.status, result.transcript).toBe(0);
    const messageId = /^250 2\.6\.0 Message queued as (\S+)$/m.exec(result.transcript)![1]!;
    expect(await receivedEvidence(messageId)).toMatch(/no TLS, sender not authenticated/);
  }, 60_000);

  it('never a relay: a foreign address gets 550 5.7.1, an unknown local one 550 5.1.1, and nothing is stored', async () => {
    const before = (await accessPointInternals(aps.c3).context.store.listMessages({ limit: 1000 })).length;
    const relay = await send('someone@elsewhere.example', 'Relay attempt');
    expect(relay.status).not.toBe(0);
    expect(relay.replies).toContain('550 5.7.1 relay access denied');
    const unknown = await send('0188-0000000000000@c3.example', 'Unknown');
    expect(unknown.status).not.toBe(0);
    expect(unknown.replies).toContainEqual(expect.stringMatching(/^550 5\.1\.1 recipient <.+> unknown$/));
    expect((await accessPointInternals(aps.c3).context.store.listMessages({ limit: 1000 })).length).toBe(
      before,
    );
  }, 60_000);
});
