import { readFileSync } from 'node:fs';
import { SMTPServer } from 'smtp-server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createMailSender } from '../../src/smtp/index.js';
import { sharedTestPki } from '../helpers/pki.js';
import { startSmtpSink, type SmtpSink } from './smtp-sink.js';
import { claimPort } from '../helpers/ports.js';

const raw = Buffer.from('From: <rem@ap.example>\r\nTo: <c4@example.test>\r\nSubject: t\r\n\r\nbody\r\n');

describe('outbound SMTP sender: how replies read (accepted, permanent, transient)', () => {
  const pki = sharedTestPki();
  let sink: SmtpSink;
  let cleartext: SMTPServer;
  let cleartextPort: number;

  beforeAll(async () => {
    sink = await startSmtpSink({
      key: readFileSync(pki.ap('c3').tlsKey),
      cert: readFileSync(pki.ap('c3').tlsCert),
    });
    // A server that never offers STARTTLS (an attacker stripping it looks the same to the client).
    cleartext = new SMTPServer({
      disabledCommands: ['STARTTLS', 'AUTH'],
      authOptional: true,
      logger: false,
      onData: (s, _x, cb) => s.on('end', () => cb()).resume(),
    });
    await new Promise<void>((resolve) => cleartext.listen(0, '127.0.0.1', () => resolve()));
    cleartextPort = (cleartext.server.address() as { port: number }).port;
  });
  afterAll(async () => {
    await sink?.close();
    await new Promise<void>((resolve) => cleartext.close(() => resolve()));
  });

  const sender = (port: number, extra: { requireTls?: boolean; ca?: Buffer } = {}) =>
    createMailSender({ host: '127.0.0.1', port, ca: readFileSync(pki.caCert), timeoutMs: 3000, ...extra });

  it('250 after STARTTLS with a verified certificate: accepted, bytes unchanged', async () => {
    const s = sender(sink.port);
    const result = await s.send({ from: 'rem@ap.example', to: 'ok@example.test', raw });
    s.close();
    expect(result).toMatchObject({ status: 'accepted', response: expect.stringMatching(/^250 /) });
    expect(sink.mailsTo('ok@example.test').at(-1)?.raw.equals(raw)).toBe(true);
  });

  it('5xx is permanent, 4xx transient, each with the reply', async () => {
    sink.plan('gone@example.test', [550]);
    sink.plan('busy@example.test', [452]);
    const s = sender(sink.port);
    const gone = await s.send({ from: 'rem@ap.example', to: 'gone@example.test', raw });
    const busy = await s.send({ from: 'rem@ap.example', to: 'busy@example.test', raw });
    s.close();
    expect(gone).toMatchObject({
      status: 'refused',
      permanent: true,
      replyCode: 550,
      response: expect.stringMatching(/^550 /),
    });
    expect(busy).toMatchObject({ status: 'refused', permanent: false, replyCode: 452 });
  });

  it('no server listening: transient, no reply code', async () => {
    // Claimed, not port 0: nothing may listen on it, and the claim keeps other tests off it.
    const s = sender(await claimPort());
    const result = await s.send({ from: 'rem@ap.example', to: 'x@example.test', raw });
    s.close();
    expect(result).toMatchObject({ status: 'refused', permanent: false });
    expect(result.status === 'refused' && result.replyCode).toBeFalsy();
  });

  it('requireTls refuses to send to a server without STARTTLS (transient); sends when explicitly allowed', async () => {
    const strict = sender(cleartextPort);
    const refused = await strict.send({ from: 'rem@ap.example', to: 'x@example.test', raw });
    strict.close();
    expect(refused).toMatchObject({ status: 'refused', permanent: false });
    const lax = sender(cleartextPort, { requireTls: false });
    const sent = await lax.send({ from: 'rem@ap.example', to: 'x@example.test', raw });
    lax.close();
    expect(sent.status).toBe('accepted');
  });

  it('a server certificate from outside the configured CA is refused (transient, nothing sent)', async () => {
    const before = sink.mails.length;
    const s = createMailSender({ host: '127.0.0.1', port: sink.port, timeoutMs: 3000 }); // system CAs only
    const result = await s.send({ from: 'rem@ap.example', to: 'x@example.test', raw });
    s.close();
    expect(result).toMatchObject({ status: 'refused', permanent: false });
    expect(sink.mails.length).toBe(before);
  });
});
