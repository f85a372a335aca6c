import { readFileSync } from 'node:fs';
import { connect } from 'node:net';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createAddressMapping,
  createSmtpIntake,
  verifyRemMessage,
  type SmtpIntake,
} from '../../src/smtp/index.js';
import { anchorTrustStore } from '../interop/as4-helpers.js';
import { sharedTestPki } from '../helpers/pki.js';
import { swaks } from '../smtp/swaks.js';
import { FUZZ_RUNS, mutated, returnsOrRefuses, RUN_TIMEOUT_MS } from './fuzz-support.js';

/**
 * SMTP intake (a real smtp-server on loopback) under random command sequences and bodies, and the
 * REM message verifier under mutated mails: replies stay well-formed, the listener keeps serving, errors are
 * QerdsErrors or an INVALID verdict.
 */
const pki = sharedTestPki();
const mapping = createAddressMapping({ domains: ['ap.example'] });
let intake: SmtpIntake;
let taken = 0;

beforeAll(async () => {
  intake = createSmtpIntake({
    mode: 'inbound',
    host: '127.0.0.1',
    port: 0,
    tls: { key: readFileSync(pki.ap('c3').tlsKey), cert: readFileSync(pki.ap('c3').tlsCert) },
    domains: ['ap.example'],
    accounts: [],
    limits: { maxClientsPerAddress: 50, messagesPerAddress: 100_000 },
    resolveRecipient: (address) => mapping.toParticipant(address),
    onMessage: async (message) => {
      taken++;
      return { messageIds: message.envelope.recipients.map((_, i) => `msg-${taken}-${i}`) };
    },
  });
  await intake.start();
});
afterAll(() => intake?.stop());

/** Writes `lines` on one connection, then QUIT; resolves with every reply line once the server closed it. */
function session(lines: readonly string[]): Promise<string[]> {
  return new Promise((resolve, reject) => {
    const socket = connect(intake.address.port, '127.0.0.1');
    let text = '';
    socket.setEncoding('latin1');
    socket.on('data', (c: string) => (text += c));
    socket.on('error', (e: NodeJS.ErrnoException) =>
      e.code === 'ECONNRESET' || e.code === 'EPIPE' ? undefined : reject(e),
    );
    socket.on('close', () => resolve(text.split('\r\n').filter(Boolean)));
    socket.once('data', () => socket.end(`${lines.join('\r\n')}\r\nQUIT\r\n`));
  });
}

const command = fc.oneof(
  fc.constantFrom(
    'EHLO fuzz.example',
    'HELO x',
    'MAIL FROM:<a@outside.example>',
    'MAIL FROM:<>',
    'RCPT TO:<0188-9876543210987@ap.example>',
    'RCPT TO:<nobody@elsewhere.example>',
    'DATA',
    'RSET',
    'NOOP',
    'VRFY x',
    'AUTH PLAIN AGFAYg==',
    'BDAT 10 LAST',
    '.',
    'Subject: x',
    'From: a@outside.example',
    '',
  ),
  fc.string({ maxLength: 40 }).map((s) => s.replace(/\r|\n/g, ' ')),
  fc.string({ maxLength: 600 }),
);

describe('fuzz: SMTP intake and REM verification', () => {
  it('answers random command sequences with well-formed replies and keeps serving', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(command, { maxLength: 12 }), async (lines) => {
        const replies = await session(lines);
        expect(replies[0]).toMatch(/^220 /);
        for (const line of replies) expect(line).toMatch(/^[2-5]\d\d[ -]/);
      }),
      { numRuns: FUZZ_RUNS, timeout: RUN_TIMEOUT_MS },
    );
    // Still serving: a valid message is taken after the storm.
    const before = taken;
    const mail = await swaks([
      '--server',
      '127.0.0.1',
      '--port',
      String(intake.address.port),
      '--from',
      'a@outside.example',
      '--to',
      '0188-9876543210987@ap.example',
      '--body',
      'after the fuzz',
    ]);
    expect(mail.status, mail.transcript).toBe(0);
    expect(taken).toBe(before + 1);
  });

  it('REM verification gives a verdict or a QerdsError for mutated mails', async () => {
    const seed = Buffer.from(
      [
        'MIME-Version: 1.0',
        'From: rem@c2.example',
        'To: 0188-9876543210987@ap.example',
        'Subject: REM dispatch',
        'Content-Type: multipart/signed; protocol="application/pkcs7-signature"; micalg=sha-256; boundary="s"',
        '',
        '--s',
        'Content-Type: multipart/mixed; boundary="m"',
        '',
        '--m',
        'Content-Type: text/plain',
        '',
        'hello',
        '--m--',
        '--s',
        'Content-Type: application/pkcs7-signature; name=smime.p7s',
        'Content-Transfer-Encoding: base64',
        '',
        'MIAGCSqGSIb3DQEHAqCAMIACAQExDzANBglghkgBZQMEAgEFADCABgkqhkiG9w0BBwEAAA==',
        '--s--',
        '',
      ].join('\r\n'),
    );
    const trust = anchorTrustStore(pki.caCert);
    await fc.assert(
      fc.asyncProperty(mutated(seed), async (mail) => {
        const result = await returnsOrRefuses(() =>
          verifyRemMessage(mail, { trust, verifyEvidence: async () => ({ valid: false }) as never }),
        );
        if (!(result instanceof Error)) expect(['VALID', 'INVALID']).toContain(result.verdict);
      }),
      { numRuns: FUZZ_RUNS, timeout: RUN_TIMEOUT_MS },
    );
  });
});
