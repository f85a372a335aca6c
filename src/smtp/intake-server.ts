import type { Socket } from 'node:net';
import type { TLSSocket } from 'node:tls';
import { simpleParser, type ParsedMail } from 'mailparser';
import { pino } from 'pino';
import {
  SMTPServer,
  type SMTPServerAuthentication,
  type SMTPServerAuthenticationResponse,
  type SMTPServerDataStream,
  type SMTPServerOptions,
  type SMTPServerSession,
} from 'smtp-server';
import { systemClock, type ParticipantId } from '../core/index.js';
import { createConnectionCount, createRateWindow } from './rate-window.js';
import { smtpError, toServerError } from './errors.js';
import { verifyPassword } from './password.js';
import { withOwnEnhancedCodes } from './reply-codes.js';
import type { IntakeMessage, IntakeRecipient, SmtpAccount, SmtpIntake, SmtpIntakeOptions } from './types.js';

/** What a session carries once AUTH succeeded. */
interface SessionUser {
  readonly account: SmtpAccount;
  readonly authenticatedAt: Date;
}

const DEFAULTS = Object.freeze({
  host: '127.0.0.1',
  port: 587,
  tlsMode: 'starttls',
  serverName: 'qerds-ap',
  maxMessageBytes: 25 * 1024 * 1024,
  maxRecipients: 50,
});

/** smtp-server with one change: replies whose text starts with an enhanced status code keep that code. */
class IntakeSmtpServer extends SMTPServer {
  override connect(socket: Socket | TLSSocket, socketOptions?: Parameters<SMTPServer['connect']>[1]): void {
    super.connect(socket, socketOptions);
    const connection = [...this.connections].at(-1);
    if (connection) withOwnEnhancedCodes(connection);
  }
}

/**
 * The SMTP submission intake of C2 (C1 → C2), on smtp-server. Policy, in the order a client meets it:
 * TLS first (STARTTLS on the submission port, or implicit TLS), then AUTH PLAIN/LOGIN against the AP's
 * sender accounts, MAIL FROM equal to the account's address, RCPT TO naming a participant the directory
 * knows (never a relay), a message within the announced SIZE, whose From header is the account's address.
 * Only a message that passed all of that reaches `onMessage`.
 */
export function createSmtpIntake(options: SmtpIntakeOptions): SmtpIntake {
  const settings = Object.freeze({ ...DEFAULTS, ...definedOnly(options) });
  const log = options.log ?? pino({ level: 'silent' });
  const clock = options.clock ?? systemClock;
  const accounts = new Map(options.accounts.map((a) => [a.username, a]));
  const domains = options.domains.map((d) => d.toLowerCase());
  // Inbound (MX-style) and relay listeners: for local recipients only, no AUTH at all. The relay listener
  // (between access points) also requires TLS before the mail transaction.
  const relay = options.mode === 'relay';
  const inbound = options.mode === 'inbound' || relay;
  // Recipients resolved during RCPT TO, per session; reset by each MAIL FROM (a new transaction).
  const resolved = new WeakMap<SMTPServerSession, Map<string, ParticipantId>>();
  let bound = { host: settings.host, port: settings.port };
  // Threat: password guessing and floods. Counted per client address, per process (see rate-window.ts).
  const limits = {
    maxClients: 100,
    authFailures: 5,
    windowMs: 300_000,
    maxClientsPerAddress: 10,
    ...definedOnly(options.limits ?? {}),
  };
  // Threat: one address holding every one of `maxClients` slots (slow or idle sessions) and shutting others out.
  const connections = createConnectionCount(limits.maxClientsPerAddress);
  const counted = new WeakMap<SMTPServerSession, string>();
  const authFailures = createRateWindow({ windowMs: limits.windowMs });
  const transactions = createRateWindow({ windowMs: limits.windowMs });

  const serverOptions: SMTPServerOptions = {
    secure: settings.tlsMode === 'implicit',
    key: options.tls.key,
    cert: options.tls.cert,
    minVersion: 'TLSv1.2',
    name: settings.serverName,
    banner: relay
      ? 'qerds-ap REM relay'
      : inbound
        ? 'qerds-ap registered e-mail inbound'
        : 'qerds-ap registered e-mail submission',
    size: settings.maxMessageBytes,
    rejectOversized: true,
    maxRecipients: settings.maxRecipients,
    maxClients: limits.maxClients,
    authMethods: ['PLAIN', 'LOGIN'],
    // Threat: credential sniffing. smtp-server refuses AUTH before TLS unless this is set; keep it unset.
    allowInsecureAuth: false,
    // Inbound: a public MX must accept mail without AUTH (and without TLS, RFC 3207 §4); it is not a relay
    // because RCPT only takes local recipients (onRcptTo) and the sender is recorded as unauthenticated.
    authOptional: inbound,
    authRequiredMessage: 'authentication required: STARTTLS, then AUTH PLAIN or LOGIN',
    hideENHANCEDSTATUSCODES: false,
    hide8BITMIME: false,
    hideSMTPUTF8: false,
    disableReverseLookup: true,
    logger: false,
    onConnect,
    onClose,
    onSecure,
    onAuth,
    onMailFrom,
    onRcptTo,
    onData,
  };
  const server = new IntakeSmtpServer(serverOptions);
  server.on('error', (err) => log.warn({ err }, 'smtp connection error'));

  // Threat: credential sniffing. On a cleartext connection AUTH is neither advertised nor accepted, so a
  // client that follows the EHLO reply never puts its password (or a PLAIN initial response) on the wire.
  // With AUTH disabled smtp-server would no longer demand it before MAIL: onMailFrom does.
  function onConnect(session: SMTPServerSession, callback: (err?: Error | null) => void): void {
    if (!connections.open(session.remoteAddress)) {
      log.warn(
        { session: session.id, remote: session.remoteAddress },
        'smtp connection refused: too many from this address',
      );
      return callback(toServerError(smtpError('SMTP_TOO_MANY_CONNECTIONS')));
    }
    counted.set(session, session.remoteAddress);
    if (!session.secure || inbound) session.disabledCommands = ['AUTH'];
    callback();
  }

  function onClose(session: SMTPServerSession): void {
    const key = counted.get(session);
    if (key !== undefined && counted.delete(session)) connections.close(key);
  }

  function onSecure(
    _socket: unknown,
    session: SMTPServerSession,
    callback: (err?: Error | null) => void,
  ): void {
    session.disabledCommands = inbound ? ['AUTH'] : undefined;
    callback();
  }

  function onAuth(
    auth: SMTPServerAuthentication,
    session: SMTPServerSession,
    callback: (err: Error | null | undefined, response?: SMTPServerAuthenticationResponse) => void,
  ): void {
    // smtp-server already refuses AUTH on cleartext; checked again because the whole policy rests on it.
    if (!session.secure) return callback(toServerError(smtpError('SMTP_TLS_REQUIRED')));
    const username = auth.username ?? '';
    const account = accounts.get(username);
    // PLAIN may name an authorization identity: acting for another user is not offered (threat: one
    // account submitting in the name of another).
    const proxying =
      auth.method === 'PLAIN' &&
      auth.authzid !== undefined &&
      auth.authzid !== '' &&
      auth.authzid !== username;
    const remote = session.remoteAddress;
    // Refused before the password is even checked: a guesser learns nothing more, whatever it sends.
    if (authFailures.count(remote) >= limits.authFailures) {
      log.warn(
        { session: session.id, remote, username, method: auth.method },
        'smtp auth throttled: too many failures from this address',
      );
      return callback(toServerError(smtpError('SMTP_AUTH_THROTTLED')));
    }
    verifyPassword(auth.password ?? '', account?.passwordHash).then(
      (ok) => {
        if (!ok || !account || proxying) {
          authFailures.add(remote);
          log.info({ session: session.id, remote, username, method: auth.method }, 'smtp auth refused');
          return callback(null, { message: toServerError(smtpError('SMTP_AUTH_FAILED')).message });
        }
        log.info({ session: session.id, username, participant: account.participant }, 'smtp auth accepted');
        const user: SessionUser = { account, authenticatedAt: clock.now() };
        callback(null, { user });
      },
      (err: unknown) => callback(toServerError(err)),
    );
  }

  function onMailFrom(
    address: { address: string },
    session: SMTPServerSession,
    callback: (err?: Error | null) => void,
  ): void {
    // Threat: a dispatch read or altered in transit, or a peer downgraded to cleartext by a stripped
    // STARTTLS. The relay binding never falls back to plaintext, on either side (RFC 3207 §4: 530).
    if (relay && !session.secure) {
      log.info(
        { session: session.id, remote: session.remoteAddress },
        'smtp relay transaction refused before STARTTLS',
      );
      return callback(toServerError(smtpError('SMTP_STARTTLS_REQUIRED')));
    }
    if (limits.messagesPerAddress !== undefined) {
      if (transactions.count(session.remoteAddress) >= limits.messagesPerAddress) {
        log.warn(
          { session: session.id, remote: session.remoteAddress },
          'smtp transaction refused: too many from this address',
        );
        return callback(toServerError(smtpError('SMTP_RATE_LIMITED')));
      }
      transactions.add(session.remoteAddress);
    }
    if (inbound) {
      resolved.set(session, new Map());
      return callback();
    }
    const user = session.user as SessionUser | undefined;
    if (!user) return callback(toServerError(smtpError('SMTP_AUTH_REQUIRED')));
    // Threat: an authenticated sender spoofing another sender's address (RFC 6409 §6.1), which would put
    // a false sender into the evidence.
    if (!sameAddress(address.address, user.account.email)) {
      log.info(
        { session: session.id, username: user.account.username, mailFrom: address.address },
        'smtp sender refused',
      );
      return callback(
        toServerError(
          smtpError(
            'SMTP_SENDER_MISMATCH',
            `sender <${address.address}> is not the address of account ${user.account.username}`,
          ),
        ),
      );
    }
    resolved.set(session, new Map());
    callback();
  }

  function onRcptTo(
    address: { address: string },
    session: SMTPServerSession,
    callback: (err?: Error | null) => void,
  ): void {
    Promise.resolve()
      .then(() => options.resolveRecipient(address.address))
      .then(
        (participant) => {
          if (participant) {
            resolved.get(session)?.set(address.address.toLowerCase(), participant);
            return callback();
          }
          // Threat: open relay. An address that names no participant of ours is refused, whatever its domain.
          const local = domains.includes(domainOf(address.address));
          log.info({ session: session.id, rcptTo: address.address, local }, 'smtp recipient refused');
          callback(
            toServerError(
              local
                ? smtpError('SMTP_UNKNOWN_RECIPIENT', `recipient <${address.address}> unknown`)
                : smtpError('SMTP_RELAY_DENIED'),
            ),
          );
        },
        (err: unknown) => callback(toServerError(err)),
      );
  }

  function onData(
    stream: SMTPServerDataStream,
    session: SMTPServerSession,
    callback: (err?: Error | null, message?: string) => void,
  ): void {
    const chunks: Buffer[] = [];
    let dropped = false;
    stream.on('data', (chunk: Buffer) => {
      if (dropped) return;
      // Enforced while the data arrives: past the limit the bytes are dropped, not buffered (threat:
      // memory exhaustion by a client that ignores SIZE). The stream is still drained; smtp-server answers 552.
      if (stream.sizeExceeded) {
        dropped = true;
        chunks.length = 0;
        return;
      }
      chunks.push(chunk);
    });
    stream.once('error', (err) => callback(toServerError(err)));
    stream.once('end', () => {
      if (dropped || stream.sizeExceeded) return callback(toServerError(smtpError('SMTP_MESSAGE_TOO_LARGE')));
      accept(Buffer.concat(chunks), session).then(
        (ids) => callback(null, `Message queued as ${ids.join(' ')}`),
        (err: unknown) => {
          log.info(
            { session: session.id, code: (err as { code?: string }).code, err: (err as Error).message },
            'smtp message refused',
          );
          callback(toServerError(err));
        },
      );
    });
  }

  async function accept(raw: Buffer, session: SMTPServerSession): Promise<readonly string[]> {
    // Inbound has no AUTH: whatever smtp-server left in session.user names no account of ours.
    const user = inbound ? undefined : (session.user as SessionUser | undefined);
    const mailFrom = session.envelope.mailFrom;
    if ((!user && !inbound) || !mailFrom) throw smtpError('SMTP_AUTH_REQUIRED');
    const parsed = await parse(raw);
    if (user) checkHeaderSender(parsed, user.account);
    const map = resolved.get(session) ?? new Map<string, ParticipantId>();
    const recipients: IntakeRecipient[] = session.envelope.rcptTo.map((r) => {
      const participant = map.get(r.address.toLowerCase());
      if (!participant) throw smtpError('SMTP_UNKNOWN_RECIPIENT', `recipient <${r.address}> unknown`);
      return { address: r.address, participant };
    });
    const tls = session.tlsOptions || undefined;
    const message: IntakeMessage = {
      ...(user ? { account: user.account, authenticatedAt: user.authenticatedAt } : {}),
      envelope: {
        mailFrom: mailFrom.address,
        recipients,
        bodyType: session.envelope.bodyType,
        smtpUtf8: session.envelope.smtpUtf8 === true,
      },
      raw,
      parsed,
      connection: {
        id: session.id,
        remoteAddress: session.remoteAddress,
        tlsProtocol: tls?.version,
        tlsCipher: tls?.name,
      },
    };
    const result = await options.onMessage(message);
    log.info(
      {
        session: session.id,
        username: user?.account.username,
        mailFrom: mailFrom.address,
        bytes: raw.length,
        messageIds: result.messageIds,
      },
      'smtp message accepted',
    );
    return result.messageIds;
  }

  return {
    get address() {
      return bound;
    },
    async start() {
      await new Promise<void>((resolve, reject) => {
        server.server.once('error', reject);
        server.listen(settings.port, settings.host, () => {
          server.server.off('error', reject);
          resolve();
        });
      });
      const address = server.server.address();
      if (address && typeof address === 'object') bound = { host: settings.host, port: address.port };
      log.info({ ...bound, tlsMode: settings.tlsMode }, 'smtp intake listening');
    },
    async stop() {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      // Open sessions are ended now rather than after smtp-server's 30 s grace period.
      for (const connection of server.connections) connection.close();
      await closed;
    },
  };
}

async function parse(raw: Buffer): Promise<ParsedMail> {
  try {
    return await simpleParser(raw, { skipHtmlToText: true, skipTextToHtml: true, skipImageLinks: true });
  } catch (err) {
    throw smtpError('SMTP_MESSAGE_MALFORMED', `message could not be parsed: ${(err as Error).message}`);
  }
}

/**
 * The From header must name exactly the account's address, in exactly one From header, and a Sender header,
 * if any, too. Threat: a message whose envelope is right but whose header shows another sender to the
 * recipient (the header is what a mail client displays), or two From headers of which different readers
 * pick different ones.
 */
function checkHeaderSender(parsed: ParsedMail, account: SmtpAccount): void {
  const count = (key: string) => parsed.headerLines.filter((h) => h.key === key).length;
  const froms = count('from');
  if (froms === 0) throw smtpError('SMTP_MESSAGE_MALFORMED', 'the message has no From header');
  if (froms > 1 || count('sender') > 1)
    throw smtpError('SMTP_HEADER_FROM_MISMATCH', 'the message has more than one From or Sender header');
  const from = parsed.from?.value ?? [];
  if (from.length !== 1 || !sameAddress(from[0]?.address ?? '', account.email)) {
    throw smtpError(
      'SMTP_HEADER_FROM_MISMATCH',
      `header From must be <${account.email}>, the address of the authenticated account`,
    );
  }
  const sender = parsed.headers.get('sender') as { value?: { address?: string }[] } | undefined;
  if (sender && (sender.value?.length !== 1 || !sameAddress(sender.value[0]?.address ?? '', account.email))) {
    throw smtpError('SMTP_HEADER_FROM_MISMATCH', 'header Sender does not match the authenticated account');
  }
}

function sameAddress(a: string, b: string): boolean {
  return a.normalize('NFC').toLowerCase() === b.normalize('NFC').toLowerCase() && a !== '';
}

function domainOf(address: string): string {
  return address.slice(address.lastIndexOf('@') + 1).toLowerCase();
}

function definedOnly<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>;
}
