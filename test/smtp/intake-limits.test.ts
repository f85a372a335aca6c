import { readFileSync } from 'node:fs';
import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ParticipantId } from '../../src/core/index.js';
import {
  createAddressMapping,
  createSmtpIntake,
  hashPassword,
  type IntakeMessage,
  type SmtpIntake,
} from '../../src/smtp/index.js';
import { createRateWindow } from '../../src/smtp/rate-window.js';
import { sharedTestPki } from '../helpers/pki.js';
import { swaks } from './swaks.js';

const SENDER = { scheme: '0188', value: '1234567890123' };
const SENDER_EMAIL = 'keiri@sample-trading.example';
const PASSWORD = 'correct horse battery staple';

describe('rate window (per-address counters of the SMTP listeners)', () => {
  it('counts within the window, forgets what leaves it, and stays bounded', () => {
    let t = 0;
    const window = createRateWindow({ windowMs: 1000, maxKeys: 2, now: () => t });
    window.add('a');
    t = 400;
    window.add('a');
    expect(window.count('a')).toBe(2);
    t = 1001; // the first event left the window
    expect(window.count('a')).toBe(1);
    window.add('b');
    window.add('c'); // a third key: the least recently active one ('a') is forgotten
    expect(window.count('a')).toBe(0);
    expect(window.count('b')).toBe(1);
    expect(window.count('c')).toBe(1);
  });
});

/** The listeners' abuse limits, met by swaks (an SMTP client we did not write) and by raw sockets. */
describe('SMTP listener limits: failed AUTH per address, messages per address, clients at once', () => {
  const pki = sharedTestPki();
  const mapping = createAddressMapping({ domains: ['ap.example'] });
  const stored: IntakeMessage[] = [];
  let submission: SmtpIntake;
  let inbound: SmtpIntake;

  const make = (
    mode: 'submission' | 'inbound',
    limits: NonNullable<Parameters<typeof createSmtpIntake>[0]['limits']>,
    passwordHash: string,
  ) =>
    createSmtpIntake({
      mode,
      host: '127.0.0.1',
      port: 0,
      tls: { key: readFileSync(pki.ap('c2').tlsKey), cert: readFileSync(pki.ap('c2').tlsCert) },
      domains: ['ap.example'],
      accounts:
        mode === 'inbound'
          ? []
          : [{ username: 'sample-trading', passwordHash, participant: SENDER, email: SENDER_EMAIL }],
      limits,
      resolveRecipient: (address): ParticipantId | undefined => mapping.toParticipant(address),
      onMessage: async (message) => {
        stored.push(message);
        return { messageIds: message.envelope.recipients.map((_, i) => `msg-${stored.length}-${i}`) };
      },
    });

  beforeAll(async () => {
    const hash = await hashPassword(PASSWORD);
    submission = make('submission', { authFailures: 3, windowMs: 60_000, maxClients: 2 }, hash);
    inbound = make('inbound', { messagesPerAddress: 2, windowMs: 60_000 }, hash);
    await Promise.all([submission.start(), inbound.start()]);
  });
  afterAll(async () => {
    await Promise.all([submission?.stop(), inbound?.stop()]);
  });

  const submit = (password: string) =>
    swaks([
      '--server',
      '127.0.0.1',
      '--port',
      String(submission.address.port),
      '--tls',
      '--tls-verify',
      '--tls-ca-path',
      pki.caCert,
      '--auth',
      'PLAIN',
      '--auth-user',
      'sample-trading',
      '--auth-password',
      password,
      '--from',
      SENDER_EMAIL,
      '--to',
      '0188-9876543210987@ap.example',
      '--h-From',
      SENDER_EMAIL,
      '--body',
      'limits',
    ]);

  it('after 3 failed AUTH from one address, AUTH from it gets 454 4.7.0, even with the right password; nothing is stored', async () => {
    for (let i = 0; i < 3; i++) {
      const wrong = await submit(`wrong password ${i}`);
      expect(wrong.replies, wrong.transcript).toContainEqual('535 5.7.8 authentication credentials invalid');
    }
    const right = await submit(PASSWORD);
    expect(right.status).not.toBe(0);
    expect(right.replies, right.transcript).toContainEqual(
      '454 4.7.0 too many failed authentication attempts from this address; try again later',
    );
    expect(stored).toHaveLength(0);
  });

  it('the inbound listener takes 2 mail transactions from one address, then answers 451 4.7.1', async () => {
    const send = () =>
      swaks([
        '--server',
        '127.0.0.1',
        '--port',
        String(inbound.address.port),
        '--from',
        'someone@outside.example',
        '--to',
        '0188-9876543210987@ap.example',
        '--body',
        'hello',
      ]);
    const before = stored.length;
    for (let i = 0; i < 2; i++) {
      const ok = await send();
      expect(ok.status, ok.transcript).toBe(0);
    }
    const refused = await send();
    expect(refused.replies, refused.transcript).toContainEqual(
      '451 4.7.1 too many messages from this address; try again later',
    );
    expect(stored.length - before).toBe(2);
  });

  it('serves 2 clients at once; a third connection gets 421', async () => {
    const greeting = (): Promise<{ line: string; close: () => void }> =>
      new Promise((resolve, reject) => {
        const socket = connect(submission.address.port, '127.0.0.1');
        socket.once('error', reject);
        socket.once('data', (d: Buffer) =>
          resolve({ line: d.toString('utf8').split('\r\n')[0]!, close: () => socket.destroy() }),
        );
      });
    const first = await greeting();
    const second = await greeting();
    const third = await greeting();
    try {
      expect(first.line).toMatch(/^220 /);
      expect(second.line).toMatch(/^220 /);
      expect(third.line).toMatch(/^421 /);
    } finally {
      for (const c of [first, second, third]) c.close();
    }
  });
});
