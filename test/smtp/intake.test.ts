import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { formatParticipantId, QerdsError, type ParticipantId } from '../../src/core/index.js';
import {
  createAddressMapping,
  createSmtpIntake,
  hashPassword,
  type IntakeMessage,
  type SmtpIntake,
} from '../../src/smtp/index.js';
import { sharedTestPki } from '../helpers/pki.js';
import { swaks } from './swaks.js';

const SENDER = { scheme: '0188', value: '1234567890123' };
const RECIPIENT = { scheme: '0188', value: '9876543210987' };
const SENDER_EMAIL = 'keiri@sample-trading.example';
const PASSWORD = 'correct horse battery staple';
const MAX_BYTES = 64 * 1024;
const fixtures = join(import.meta.dirname, '../fixtures/smtp');

describe('SMTP intake (C1 → C2) against swaks on loopback', () => {
  const pki = sharedTestPki();
  const work = mkdtempSync(join(tmpdir(), 'qerds-smtp-intake-'));
  const stored: IntakeMessage[] = [];
  const known = new Set([formatParticipantId(RECIPIENT)]);
  const mapping = createAddressMapping({ domains: ['ap.example'] });
  let starttls: SmtpIntake;
  let implicit: SmtpIntake;
  let failing: SmtpIntake;

  const intake = (overrides: Partial<Parameters<typeof createSmtpIntake>[0]>, passwordHash: string) =>
    createSmtpIntake({
      host: '127.0.0.1',
      port: 0,
      tls: { key: readFileSync(pki.ap('c2').tlsKey), cert: readFileSync(pki.ap('c2').tlsCert) },
      domains: ['ap.example'],
      accounts: [{ username: 'sample-trading', passwordHash, participant: SENDER, email: SENDER_EMAIL }],
      maxMessageBytes: MAX_BYTES,
      resolveRecipient: (address): ParticipantId | undefined => {
        const id = mapping.toParticipant(address);
        return id && known.has(formatParticipantId(id)) ? id : undefined;
      },
      onMessage: async (message) => {
        stored.push(message);
        return { messageIds: message.envelope.recipients.map((_, i) => `msg-${stored.length}-${i}`) };
      },
      ...overrides,
    });

  beforeAll(async () => {
    const hash = await hashPassword(PASSWORD);
    starttls = intake({}, hash);
    implicit = intake({ tlsMode: 'implicit' }, hash);
    failing = intake(
      {
        onMessage: async () => {
          throw new Error('store is down: /var/lib/secret path');
        },
      },
      hash,
    );
    await Promise.all([starttls.start(), implicit.start(), failing.start()]);
  });
  afterAll(async () => {
    await Promise.all([starttls?.stop(), implicit?.stop(), failing?.stop()]);
  });
  beforeEach(() => {
    stored.length = 0;
  });

  interface Variant {
    readonly tls?: 'starttls' | 'implicit' | 'none';
    readonly auth?: 'PLAIN' | 'LOGIN' | 'none';
  }

  /** swaks arguments for a well-behaved submission; each test changes one thing (later options win). */
  function submission(server: SmtpIntake, variant: Variant, ...extra: string[]): string[] {
    const tls = { starttls: ['--tls'], implicit: ['--tls-on-connect'], none: [] }[variant.tls ?? 'starttls'];
    const verify = variant.tls === 'none' ? [] : ['--tls-verify', '--tls-ca-path', pki.caCert];
    const auth =
      variant.auth === 'none'
        ? []
        : ['--auth', variant.auth ?? 'PLAIN', '--auth-user', 'sample-trading', '--auth-password', PASSWORD];
    const content = extra.includes('--data')
      ? []
      : [
          '--h-From',
          `"Sample Trading" <${SENDER_EMAIL}>`,
          '--h-Subject',
          'Invoice 2026-0042',
          '--body',
          'Please find the invoice.',
        ];
    return [
      '--server',
      '127.0.0.1',
      '--port',
      String(server.address.port),
      ...tls,
      ...verify,
      ...auth,
      '--from',
      SENDER_EMAIL,
      '--to',
      '0188-9876543210987@ap.example',
      ...content,
      ...extra,
    ];
  }

  it('accepts a submission after STARTTLS and AUTH PLAIN, with a verified certificate, and hands over the exact bytes', async () => {
    const ehlo = await swaks([
      '--server',
      '127.0.0.1',
      '--port',
      String(starttls.address.port),
      '--quit-after',
      'EHLO',
    ]);
    expect(ehlo.replies.join('\n')).toMatch(/STARTTLS/);
    expect(ehlo.replies.join('\n')).toMatch(new RegExp(`SIZE ${MAX_BYTES}`));
    expect(ehlo.replies.join('\n')).toMatch(/8BITMIME/);
    expect(ehlo.replies.join('\n')).toMatch(/SMTPUTF8/);
    expect(ehlo.replies.join('\n')).toMatch(/ENHANCEDSTATUSCODES/);

    const result = await swaks(submission(starttls, {}));
    expect(result.status, result.transcript).toBe(0);
    expect(result.replies).toContain('235 2.7.0 Authentication successful');
    expect(result.replies.at(-2)).toMatch(/^250 2\.6\.0 Message queued as msg-1-0$/);
    expect(stored).toHaveLength(1);
    const [message] = stored;
    expect(message!.account?.username).toBe('sample-trading');
    expect(message!.envelope.recipients).toEqual([
      { address: '0188-9876543210987@ap.example', participant: RECIPIENT },
    ]);
    expect(message!.parsed.subject).toBe('Invoice 2026-0042');
    expect(message!.raw.toString('utf8')).toMatch(/^Date: /m);
    expect(message!.raw.toString('utf8')).toContain('\r\n\r\nPlease find the invoice.');
    expect(message!.connection.tlsProtocol).toMatch(/^TLSv1\.[23]$/);
  });

  it('accepts AUTH LOGIN, and implicit TLS (port 465 style)', async () => {
    const login = await swaks(submission(starttls, { auth: 'LOGIN' }));
    expect(login.status, login.transcript).toBe(0);
    const tlsc = await swaks(submission(implicit, { tls: 'implicit' }));
    expect(tlsc.status, tlsc.transcript).toBe(0);
    expect(tlsc.transcript).not.toMatch(/STARTTLS/);
    expect(stored).toHaveLength(2);
  });

  it('accepts a message with a Japanese subject and an 8-bit UTF-8 body (8BITMIME, SMTPUTF8)', async () => {
    const result = await swaks(submission(starttls, {}, '--data', join(fixtures, 'utf8-message.eml')));
    expect(result.status, result.transcript).toBe(0);
    expect(stored[0]!.parsed.subject).toBe('請求書 2026-0042');
    expect(stored[0]!.parsed.text).toContain('請求書を添付します。');
    // swaks ends DATA with CRLF "." CRLF after the file, so the message is the file plus one empty line.
    const sent = Buffer.concat([readFileSync(join(fixtures, 'utf8-message.eml')), Buffer.from('\r\n')]);
    expect(stored[0]!.raw.toString('hex')).toBe(sent.toString('hex'));
  });

  it('refuses a mail transaction without AUTH: 530 5.7.0', async () => {
    const result = await swaks(submission(starttls, { auth: 'none' }));
    expect(result.status).not.toBe(0);
    expect(result.replies).toContainEqual(expect.stringMatching(/^530 5\.7\.0 /));
    expect(stored).toHaveLength(0);
  });

  it('neither offers nor accepts AUTH before STARTTLS (538 5.7.11): the password is never sent in clear', async () => {
    const result = await swaks(submission(starttls, { tls: 'none' }));
    expect(result.status).not.toBe(0);
    expect(result.transcript).toMatch(/did not advertise authentication/i);
    expect(result.transcript).not.toMatch(/^AUTH /m);
    // A client that sends AUTH anyway is refused, and so is a mail transaction without it.
    const replies = await rawSession(starttls.address.port, [
      'EHLO client.example',
      'AUTH PLAIN AHNhbXBsZS10cmFkaW5nAHdyb25n',
      `MAIL FROM:<${SENDER_EMAIL}>`,
      'QUIT',
    ]);
    expect(replies[1]).not.toMatch(/AUTH/);
    expect(replies[2]).toBe('538 5.7.11 encryption required: issue STARTTLS before AUTH');
    expect(replies[3]).toMatch(/^530 5\.7\.0 /);
    expect(stored).toHaveLength(0);
  });

  it('refuses a wrong password and an unknown user alike: 535 5.7.8', async () => {
    for (const args of [
      ['--auth-password', 'wrong'],
      ['--auth-user', 'nobody'],
    ]) {
      const result = await swaks(submission(starttls, {}, ...args));
      expect(result.status).not.toBe(0);
      expect(result.replies).toContainEqual('535 5.7.8 authentication credentials invalid');
    }
    expect(stored).toHaveLength(0);
  });

  it('refuses a MAIL FROM that is not the account address: 553 5.7.1', async () => {
    const result = await swaks(submission(starttls, {}, '--from', 'ceo@other-company.example'));
    expect(result.status).not.toBe(0);
    expect(result.replies).toContainEqual(
      expect.stringMatching(/^553 5\.7\.1 sender <ceo@other-company\.example> is not the address of account/),
    );
    expect(stored).toHaveLength(0);
  });

  it('refuses a header From that is not the account address, at the end of DATA: 550 5.7.1', async () => {
    const result = await swaks(submission(starttls, {}, '--h-From', '"CEO" <ceo@other-company.example>'));
    expect(result.status).not.toBe(0);
    expect(result.replies.at(-2)).toMatch(/^550 5\.7\.1 header From must be <keiri@sample-trading\.example>/);
    expect(stored).toHaveLength(0);
  });

  it('refuses a message with two From headers (one right, one spoofed): 550 5.7.1', async () => {
    const result = await swaks(submission(starttls, {}, '--data', join(fixtures, 'two-from-headers.eml')));
    expect(result.replies.at(-2)).toMatch(/^550 5\.7\.1 .*more than one From/);
    expect(stored).toHaveLength(0);
  });

  it('refuses an oversize message while it streams: 552 5.3.4', async () => {
    const body = join(work, 'big.txt');
    writeFileSync(body, `${'x'.repeat(76)}\r\n`.repeat(Math.ceil((MAX_BYTES * 2) / 78)));
    const result = await swaks(submission(starttls, {}, '--body', body));
    expect(result.status).not.toBe(0);
    expect(result.replies).toContainEqual(expect.stringMatching(/^552 5\.3\.4 /));
    expect(stored).toHaveLength(0);
  });

  it('is never an open relay: a foreign domain is refused with 550 5.7.1', async () => {
    const result = await swaks(submission(starttls, {}, '--to', 'someone@gmail.example'));
    expect(result.status).not.toBe(0);
    expect(result.replies).toContainEqual('550 5.7.1 relay access denied');
    expect(stored).toHaveLength(0);
  });

  it('refuses an address of our domain that names no known participant: 550 5.1.1', async () => {
    for (const to of ['0188-0000000000000@ap.example', 'postmaster@ap.example']) {
      const result = await swaks(submission(starttls, {}, '--to', to));
      expect(result.status).not.toBe(0);
      expect(result.replies).toContainEqual(expect.stringMatching(/^550 5\.1\.1 recipient <.+> unknown$/));
    }
    expect(stored).toHaveLength(0);
  });

  it('answers 451 4.3.0 (retry later) when storing fails, without leaking the internal error', async () => {
    const result = await swaks(submission(failing, {}));
    expect(result.replies.at(-2)).toBe('451 4.3.0 local error in processing, try again later');
    expect(result.transcript).not.toContain('/var/lib/secret');
  });

  it('turns a QerdsError of onMessage into its catalogue reply', async () => {
    const rejecting = createSmtpIntake({
      port: 0,
      tls: { key: readFileSync(pki.ap('c2').tlsKey), cert: readFileSync(pki.ap('c2').tlsCert) },
      domains: ['ap.example'],
      accounts: [
        {
          username: 'sample-trading',
          passwordHash: await hashPassword(PASSWORD, { N: 1024 }),
          participant: SENDER,
          email: SENDER_EMAIL,
        },
      ],
      resolveRecipient: () => RECIPIENT,
      onMessage: async () => {
        throw new QerdsError('SUBMISSION_REJECTED', 'recipient cannot be reached (RA05)');
      },
    });
    await rejecting.start();
    try {
      const result = await swaks(submission(rejecting, {}));
      expect(result.replies.at(-2)).toBe('554 5.7.1 recipient cannot be reached (RA05)');
    } finally {
      await rejecting.stop();
    }
  });
});

/** A bare SMTP dialogue over a plain socket: one reply (possibly multi-line) per command, greeting first. */
async function rawSession(port: number, commands: readonly string[]): Promise<string[]> {
  const socket = connect(port, '127.0.0.1');
  const replies: string[] = [];
  let buffer = '';
  let pending: (() => void) | undefined;
  socket.on('data', (d: Buffer) => {
    buffer += d.toString('utf8');
    // A reply is complete at a line "NNN text" (space after the code).
    const m = /(^|\r\n)(\d{3}) [^\r\n]*\r\n/.exec(buffer);
    if (m) {
      replies.push(buffer.slice(0, m.index + m[0].length).trim());
      buffer = buffer.slice(m.index + m[0].length);
      pending?.();
    }
  });
  const next = () => new Promise<void>((resolve) => (pending = resolve));
  await next();
  for (const command of commands) {
    const reply = next();
    socket.write(`${command}\r\n`);
    await reply;
  }
  socket.destroy();
  return replies;
}
