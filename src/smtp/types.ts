import type { ParsedMail } from 'mailparser';
import type { Logger } from 'pino';
import type { Clock, ParticipantId } from '../core/index.js';

/** A sender account of this AP on the submission port (C1 → C2). */
export interface SmtpAccount {
  /** SASL authentication identity (PLAIN authcid, LOGIN user name). */
  readonly username: string;
  /** `scrypt$N$r$p$salt$key` (see password.ts); never the password itself. */
  readonly passwordHash: string;
  /** The participant this account submits for (sender of the registered message). */
  readonly participant: ParticipantId;
  /** The only address this account may use in MAIL FROM and in the From header. */
  readonly email: string;
  /** Display name, for logs. */
  readonly name?: string;
}

/** One accepted recipient of a mail transaction, with the participant its address names. */
export interface IntakeRecipient {
  readonly address: string;
  readonly participant: ParticipantId;
}

/** What the intake hands to the pipeline once DATA passed every check. */
export interface IntakeMessage {
  /** The authenticated sender account; absent on the inbound and relay listeners (no AUTH there). */
  readonly account?: SmtpAccount;
  readonly envelope: {
    readonly mailFrom: string;
    readonly recipients: readonly IntakeRecipient[];
    /** 8BITMIME (RFC 6152) body type declared in MAIL FROM, when any. */
    readonly bodyType?: string;
    /** SMTPUTF8 (RFC 6531) requested in MAIL FROM. */
    readonly smtpUtf8: boolean;
  };
  /** The message exactly as submitted (RFC 5322 bytes after SMTP dot-unstuffing): the original to keep. */
  readonly raw: Buffer;
  readonly parsed: ParsedMail;
  /** When AUTH succeeded on this connection; absent on the inbound listener. */
  readonly authenticatedAt?: Date;
  readonly connection: {
    readonly id: string;
    readonly remoteAddress: string;
    /** e.g. `TLSv1.3` */
    readonly tlsProtocol?: string;
    readonly tlsCipher?: string;
  };
}

export interface IntakeResult {
  /** Ids of the messages created (one per recipient), quoted in the 250 reply. */
  readonly messageIds: readonly string[];
}

export interface SmtpIntakeOptions {
  /**
   * `submission`: C1 → C2, TLS and AUTH required, the account owns the sender address. `inbound`: an MX-style
   * listener for mail from outside any ERDS: no AUTH (not offered), STARTTLS offered but not required,
   * RCPT only for recipients `resolveRecipient` names (local ones: never a relay); `accounts` unused.
   * `relay`: the listener of the SMTP relay binding between access points: like `inbound`, but STARTTLS is
   * mandatory before MAIL FROM (530 5.7.0); peers authenticate by the seal of what they send, not by AUTH.
   * @defaultValue 'submission'
   */
  readonly mode?: 'submission' | 'inbound' | 'relay';
  /** Listen address. @defaultValue '127.0.0.1' */
  readonly host?: string;
  /** TCP port; 0 picks a free one. @defaultValue 587 */
  readonly port?: number;
  /**
   * `starttls`: submission port (RFC 6409) where STARTTLS must precede AUTH; `implicit`: TLS from the first
   * byte (RFC 8314, port 465). @defaultValue 'starttls'
   */
  readonly tlsMode?: 'starttls' | 'implicit';
  /** The AP's TLS identity (PEM), e.g. the dev PKI's `<ap>/tls.key.pem` and `<ap>/tls.crt.pem`. */
  readonly tls: { readonly key: string | Buffer; readonly cert: string | Buffer };
  /** Host name in the greeting and EHLO reply. @defaultValue 'qerds-ap' */
  readonly serverName?: string;
  /** This AP's mail domains: a recipient there that resolves to nobody is "unknown", elsewhere "relay denied". */
  readonly domains: readonly string[];
  readonly accounts: readonly SmtpAccount[];
  /** Largest message, in bytes; announced in EHLO SIZE and enforced while DATA streams. @defaultValue 26214400 (25 MiB) */
  readonly maxMessageBytes?: number;
  /** Recipients per transaction; more get 452 4.5.3. @defaultValue 50 */
  readonly maxRecipients?: number;
  /** The participant an RCPT TO address names, if the directory knows it. */
  resolveRecipient(address: string): ParticipantId | undefined | Promise<ParticipantId | undefined>;
  /** Stores and submits an accepted message; a thrown QerdsError becomes the DATA reply (see errors.ts). */
  onMessage(message: IntakeMessage): Promise<IntakeResult>;
  /**
   * Abuse limits, per process. `maxClients`: connections served at once (more get 421). `authFailures`: failed
   * AUTH attempts from one IP address within `windowMs` after which AUTH from it gets 454 4.7.0 until the oldest
   * failure leaves the window. `messagesPerAddress`: mail transactions one IP address may start within `windowMs`
   * (MAIL FROM; more get 451 4.7.1). `maxClientsPerAddress`: connections at once from one IP address (more get
   * 421 4.7.0 and are closed). Defaults: 100 clients, 5 failures, no message limit, 5 minutes, 10 per address.
   */
  readonly limits?: {
    readonly maxClients?: number;
    readonly authFailures?: number;
    readonly messagesPerAddress?: number;
    readonly windowMs?: number;
    readonly maxClientsPerAddress?: number;
  };
  readonly log?: Logger;
  readonly clock?: Clock;
}

export interface SmtpIntake {
  /** Resolves once listening. */
  start(): Promise<void>;
  /** Stops accepting, closes open connections. */
  stop(): Promise<void>;
  /** The bound address, once started. */
  readonly address: { readonly host: string; readonly port: number };
}
