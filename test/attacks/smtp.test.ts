import { readFileSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createAddressMapping,
  createSmtpIntake,
  type IntakeMessage,
  type SmtpIntake,
} from '../../src/smtp/index.js';
import { sharedTestPki } from '../helpers/pki.js';
import { swaks } from '../smtp/swaks.js';

/**
 * SMTP listeners capped only globally (`maxClients`) would let one address hold every slot. So at most
 * `maxClientsPerAddress` at once per address: the next gets 421 4.7.0 and is closed,
 * other addresses are still served, and once the address lets go, mail from it is taken again.
 */
describe('SMTP connections per client address', () => {
  const pki = sharedTestPki();
  const mapping = createAddressMapping({ domains: ['ap.example'] });
  const stored: IntakeMessage[] = [];
  let inbound: SmtpIntake;

  beforeAll(async () => {
    inbound = createSmtpIntake({
      mode: 'inbound',
      host: '127.0.0.1',
      port: 0,
      tls: { key: readFileSync(pki.ap('c3').tlsKey), cert: readFileSync(pki.ap('c3').tlsCert) },
      domains: ['ap.example'],
      accounts: [],
      limits: { maxClients: 20, maxClientsPerAddress: 2 },
      resolveRecipient: (address) => mapping.toParticipant(address),
      onMessage: async (message) => {
        stored.push(message);
        return { messageIds: message.envelope.recipients.map((_, i) => `msg-${stored.length}-${i}`) };
      },
    });
    await inbound.start();
  });
  afterAll(() => inbound?.stop());

  /** A raw connection from `localAddress` and its first reply line (the greeting or the refusal). */
  const open = (
    localAddress = '127.0.0.1',
  ): Promise<{ socket: Socket; greeting: string; closed: Promise<void> }> =>
    new Promise((resolve, reject) => {
      const socket = connect({ host: '127.0.0.1', port: inbound.address.port, localAddress });
      const closed = new Promise<void>((done) => socket.once('close', () => done()));
      let text = '';
      socket.setEncoding('utf8');
      socket.on('data', function first(chunk: string) {
        text += chunk;
        if (!text.includes('\r\n')) return;
        socket.off('data', first);
        resolve({ socket, greeting: text.split('\r\n')[0]!, closed });
      });
      socket.once('error', reject);
    });

  it('refuses a third connection from one address with 421 4.7.0, serves another address, then takes mail again', async () => {
    const first = await open();
    const second = await open();
    expect(first.greeting).toMatch(/^220 /);
    expect(second.greeting).toMatch(/^220 /);
    const third = await open();
    expect(third.greeting).toBe('421 4.7.0 too many connections from this address; try again later');
    await third.closed; // the server hangs up after the 421
    const elsewhere = await open('127.0.0.2');
    expect(elsewhere.greeting).toMatch(/^220 /);
    elsewhere.socket.end('QUIT\r\n');
    expect(stored).toHaveLength(0);

    first.socket.end('QUIT\r\n');
    second.socket.end('QUIT\r\n');
    await Promise.all([first.closed, second.closed]);
    const mail = await swaks([
      '--server',
      '127.0.0.1',
      '--port',
      String(inbound.address.port),
      '--from',
      'someone@outside.example',
      '--to',
      '0188-9876543210987@ap.example',
      '--body',
      'after the flood',
    ]);
    expect(mail.status, mail.transcript).toBe(0);
    expect(stored).toHaveLength(1);
  });
});
