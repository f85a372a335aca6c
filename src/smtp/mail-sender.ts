import { checkServerIdentity, type PeerCertificate } from 'node:tls';
import { createTransport } from 'nodemailer';
import type { Logger } from 'pino';

/**
 * Outbound SMTP (nodemailer): sends finished RFC 5322 bytes as they are (`raw`, so the S/MIME signature over
 * them stays valid) with an explicit envelope, and reads the server's answer into accepted / refused.
 */
export interface MailSenderOptions {
  readonly host: string;
  /** @defaultValue 587 */
  readonly port?: number;
  /** TLS from the first byte (RFC 8314, port 465); else STARTTLS when the server offers it. @defaultValue false */
  readonly secure?: boolean;
  /** Send nothing unless the connection is TLS (STARTTLS must succeed). @defaultValue true */
  readonly requireTls?: boolean;
  /** CA certificates (PEM) that issue the server's TLS certificate; default: Node's. */
  readonly ca?: string | Buffer | readonly (string | Buffer)[];
  /** CRLs (PEM) checked for the server's certificate in the handshake (each issuer then needs a current one). */
  readonly crl?: readonly (string | Buffer)[];
  /**
   * A further check of the server's certificate after the chain and the host name passed (e.g. the peer's
   * pins from the directory): an Error refuses the connection. @defaultValue none
   */
  readonly checkServerCertificate?: (certificate: PeerCertificate) => Error | undefined;
  readonly auth?: { readonly user: string; readonly pass: string };
  /** Connections kept open and used at once (a pool: connections are reused across mails). @defaultValue 5 */
  readonly maxConnections?: number;
  /** Connection, greeting and socket timeout, in ms. @defaultValue 30000 */
  readonly timeoutMs?: number;
  /** Name in EHLO. @defaultValue 'qerds-ap' */
  readonly name?: string;
  readonly log?: Logger;
}

/**
 * The server's answer to one mail. `permanent`: a 5xx reply to MAIL, RCPT or DATA (RFC 5321 §4.2.1); 4xx,
 * no reply, and refusals of STARTTLS or AUTH are transient.
 */
export type MailSendOutcome =
  | { readonly status: 'accepted'; readonly response: string }
  | {
      readonly status: 'refused';
      readonly permanent: boolean;
      readonly replyCode?: number;
      readonly response: string;
    };

export interface MailSender {
  send(input: { readonly from: string; readonly to: string; readonly raw: Buffer }): Promise<MailSendOutcome>;
  close(): void;
}

export function createMailSender(options: MailSenderOptions): MailSender {
  const timeout = options.timeoutMs ?? 30_000;
  const transport = createTransport({
    pool: true,
    maxConnections: options.maxConnections ?? 5,
    host: options.host,
    port: options.port ?? 587,
    secure: options.secure ?? false,
    // Threat: a network attacker stripping STARTTLS from the EHLO reply to read registered mail in transit.
    requireTLS: options.requireTls ?? true,
    tls: {
      minVersion: 'TLSv1.2' as const,
      ...(options.ca
        ? { ca: typeof options.ca === 'string' || Buffer.isBuffer(options.ca) ? options.ca : [...options.ca] }
        : {}),
      ...(options.crl?.length ? { crl: [...options.crl] } : {}),
      ...(options.checkServerCertificate
        ? {
            checkServerIdentity: (host: string, cert: PeerCertificate) =>
              checkServerIdentity(host, cert) ?? options.checkServerCertificate!(cert),
          }
        : {}),
    },
    ...(options.auth ? { auth: { user: options.auth.user, pass: options.auth.pass } } : {}),
    name: options.name ?? 'qerds-ap',
    connectionTimeout: timeout,
    greetingTimeout: timeout,
    socketTimeout: timeout,
    disableFileAccess: true,
    disableUrlAccess: true,
  });

  return {
    async send({ from, to, raw }) {
      try {
        const info = await transport.sendMail({ envelope: { from, to: [to] }, raw });
        if (info.rejected.length > 0)
          return { status: 'refused', permanent: true, response: oneLine(info.response) };
        return { status: 'accepted', response: oneLine(info.response) };
      } catch (error) {
        const err = error as { responseCode?: number; response?: string; code?: string; message?: string };
        const replyCode = typeof err.responseCode === 'number' ? err.responseCode : undefined;
        const response = oneLine(err.response ?? `${err.code ?? 'ERROR'} ${err.message ?? ''}`);
        options.log?.debug({ to, replyCode, code: err.code, response }, 'smtp send refused');
        // Only a 5xx to the mail transaction itself (MAIL, RCPT: EENVELOPE; DATA: EMESSAGE) says no to this mail.
        // A 5xx on the way there (STARTTLS refused: ETLS, AUTH: EAUTH) is a fault of the link or of our
        // configuration, retried like a connection failure so that fixing it lets the mail through.
        const permanent =
          replyCode !== undefined &&
          replyCode >= 500 &&
          (err.code === 'EENVELOPE' || err.code === 'EMESSAGE');
        return { status: 'refused', permanent, ...(replyCode !== undefined ? { replyCode } : {}), response };
      }
    },
    close() {
      transport.close();
    },
  };
}

// Replies end up in evidence Details and in logs: one line, bounded.
function oneLine(text: string): string {
  return text
    .replace(/[\r\n\t]+/g, ' ')
    .trim()
    .slice(0, 500);
}
