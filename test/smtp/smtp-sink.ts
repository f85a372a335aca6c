import { SMTPServer, type SMTPServerSession } from 'smtp-server';

/** One mail the sink accepted. */
export interface SinkMail {
  readonly from: string;
  readonly to: readonly string[];
  readonly raw: Buffer;
  /** When the sink accepted it (Date.now()). */
  readonly receivedAt: number;
}

/** One RCPT TO the sink answered. */
export interface SinkRcpt {
  readonly to: string;
  readonly code: number;
}

export interface SmtpSink {
  readonly port: number;
  readonly mails: SinkMail[];
  readonly rcpts: SinkRcpt[];
  /**
   * Replies to give to RCPT TO of `address`, in order, before the default 250 (e.g. `[450]`: one temporary
   * failure, then accepted; `[550]`: refused once).
   */
  plan(address: string, codes: readonly number[]): void;
  /** Mails to `address` (lower case compared). */
  mailsTo(address: string): SinkMail[];
  close(): Promise<void>;
}

/**
 * A local SMTP server standing for the recipient's (or the sender's) mail server: STARTTLS with the given
 * certificate, no AUTH, and a reply per recipient that the test chooses (250, 4xx, 5xx). Collects the raw
 * bytes of what it accepted.
 */
export async function startSmtpSink(tls: { key: string | Buffer; cert: string | Buffer }): Promise<SmtpSink> {
  const mails: SinkMail[] = [];
  const rcpts: SinkRcpt[] = [];
  const plans = new Map<string, number[]>();
  const server = new SMTPServer({
    key: tls.key,
    cert: tls.cert,
    authOptional: true,
    disabledCommands: ['AUTH'],
    disableReverseLookup: true,
    logger: false,
    size: 50 * 1024 * 1024,
    onRcptTo(address, _session: SMTPServerSession, callback) {
      const key = address.address.toLowerCase();
      const code = plans.get(key)?.shift() ?? 250;
      rcpts.push({ to: key, code });
      if (code === 250) return callback();
      const text = code >= 500 ? '5.1.1 mailbox unavailable (sink)' : '4.2.1 mailbox busy, try later (sink)';
      callback(Object.assign(new Error(text), { responseCode: code }));
    },
    onData(stream, session, callback) {
      const chunks: Buffer[] = [];
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('end', () => {
        mails.push({
          from: session.envelope.mailFrom ? session.envelope.mailFrom.address : '',
          to: session.envelope.rcptTo.map((r) => r.address.toLowerCase()),
          raw: Buffer.concat(chunks),
          receivedAt: Date.now(),
        });
        callback(null, 'queued by sink');
      });
    },
  });
  await new Promise<void>((resolve, reject) => {
    server.server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.server.address() as { port: number };
  return {
    port,
    mails,
    rcpts,
    plan: (address, codes) => void plans.set(address.toLowerCase(), [...codes]),
    mailsTo: (address) => mails.filter((m) => m.to.includes(address.toLowerCase())),
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        for (const connection of (server as unknown as { connections: Set<{ close(): void }> }).connections)
          connection.close();
      }),
  };
}
