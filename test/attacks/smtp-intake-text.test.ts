import { readFileSync } from 'node:fs';
import { createTransport } from 'nodemailer';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hashPassword } from '../../src/smtp/index.js';
import { sharedTestPki } from '../helpers/pki.js';
import { SENDER, startAttackAp, type AttackAp } from './rest-ap.js';

/**
 * Evidence that does not parse, on the SMTP intake: the decoded subject and the envelope addresses
 * enter the message and its evidence, so a character XML 1.0 cannot carry, or CR/LF in a decoded subject, is
 * refused with 550 5.6.0 before anything is stored; a clean mail is still accepted after.
 */
const SENDER_EMAIL = 'keiri@sample-trading.example';
const PASSWORD = 'correct horse battery staple';
const TO = '0188-9876543210987@ap.example';
let target: AttackAp;

beforeAll(async () => {
  const passwordHash = await hashPassword(PASSWORD, { N: 1024 });
  target = await startAttackAp('smtp-text', {
    smtp: {
      enabled: true,
      port: 0,
      domain: 'ap.example',
      accounts: [{ username: 'sample-trading', passwordHash, participant: SENDER.id, email: SENDER_EMAIL }],
    },
  });
}, 60_000);
afterAll(async () => {
  await target?.stop();
});

function send(subjectHeader: string): Promise<{ code: number; response: string }> {
  const transport = createTransport({
    host: '127.0.0.1',
    port: target.ap.smtpAddress!.port,
    secure: false,
    requireTLS: true,
    tls: { ca: readFileSync(sharedTestPki().caCert), servername: 'localhost' },
    auth: { user: 'sample-trading', pass: PASSWORD },
  });
  const raw = `From: ${SENDER_EMAIL}\r\nTo: ${TO}\r\nSubject: ${subjectHeader}\r\nMessage-ID: <${Date.now()}.${Math.random()}@sample-trading.example>\r\n\r\nInvoice attached.\r\n`;
  return transport
    .sendMail({ envelope: { from: SENDER_EMAIL, to: [TO] }, raw })
    .then(
      (info) => ({ code: 250, response: info.response }),
      (error: { responseCode?: number; response?: string }) => ({
        code: error.responseCode ?? 0,
        response: error.response ?? String(error),
      }),
    )
    .finally(() => transport.close());
}

const encoded = (text: string) => `=?UTF-8?B?${Buffer.from(text, 'utf8').toString('base64')}?=`;

describe('SMTP intake: subject text that sealed XML or a header cannot carry', () => {
  it.each([
    [
      'U+0001 in an encoded-word subject',
      encoded('inv\u0001oice'),
      /Subject: character U\+0001 at index 3 is not allowed in XML 1\.0/,
    ],
    ['U+0000 in an encoded-word subject', encoded('inv\u0000oice'), /Subject: character U\+0000/],
    [
      'CR/LF in an encoded-word subject',
      encoded('invoice\r\nBcc: someone@example.org'),
      /Subject: control character U\+000D/,
    ],
  ])('%s: 550 5.6.0, nothing stored, a clean mail accepted after', async (_name, subject, why) => {
    const before = { messages: await target.messageCount(), blobs: await target.blobFiles() };
    const refused = await send(subject);
    expect(refused.code).toBe(550);
    expect(refused.response).toMatch(/^550 5\.6\.0 /);
    expect(refused.response).toMatch(why);
    expect(await target.messageCount()).toBe(before.messages);
    expect(await target.blobFiles()).toEqual(before.blobs);
    const clean = await send('Invoice 2026-0042');
    expect(clean.code, clean.response).toBe(250);
  });
});
