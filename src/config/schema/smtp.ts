/** Configuration sections: SMTP intake and mail delivery (assembled in config/schema.ts). */
import { z } from 'zod';
import { participantId } from './fields.js';

export const smtpAccountEntry = z.strictObject({
  /** SASL user name (AUTH PLAIN / LOGIN). */
  username: z.string().min(1),
  /** `scrypt$N$r$p$salt$key` (see src/smtp/password.ts, `hashPassword`); never the password itself. */
  passwordHash: z
    .string()
    .regex(/^scrypt\$\d+\$\d+\$\d+\$[A-Za-z0-9+/=]+\$[A-Za-z0-9+/=]+$/, 'must be a scrypt$… hash'),
  /** The participant this account submits for, `<scheme>:<value>`. */
  participant: participantId(),
  /** The only address the account may use in MAIL FROM and in the From header. */
  email: z.string().regex(/^[^@\s]+@[^@\s]+$/, 'must be an e-mail address'),
  /** Display name. */
  name: z.string().optional(),
});

export const smtp = z
  .strictObject({
    /** Run the SMTP submission intake (C1 → C2). @defaultValue false */
    enabled: z.boolean().default(false),
    /**
     * Address the submission listener binds (with `enabled`). The default takes connections from this machine
     * only; `0.0.0.0` (or `::`) on every interface. @defaultValue '127.0.0.1'
     */
    host: z.string().default('127.0.0.1'),
    /** TCP port; 0 picks a free one. @defaultValue 587 (submission) */
    port: z.coerce.number().int().min(0).max(65535).default(587),
    /** `starttls` (submission port, STARTTLS before AUTH) or `implicit` (TLS from the first byte, port 465). @defaultValue 'starttls' */
    tlsMode: z.enum(['starttls', 'implicit']).default('starttls'),
    /** This AP's mail domain: `<scheme>-<value>@<domain>` names participant `<scheme>:<value>`. @defaultValue 'localhost' */
    domain: z.string().min(1).default('localhost'),
    /** TLS certificate (PEM, chain after the leaf); default: the dev PKI's `<apName>/tls.crt.pem`. */
    tlsCert: z.string().optional(),
    /** TLS private key (PEM); default: the dev PKI's `<apName>/tls.key.pem`. */
    tlsKey: z.string().optional(),
    /** Largest message, in bytes (EHLO SIZE, enforced while DATA streams). @defaultValue 26214400 (25 MiB) */
    maxMessageBytes: z.coerce
      .number()
      .int()
      .min(1024)
      .default(25 * 1024 * 1024),
    /**
     * Abuse limits of the SMTP listeners, per AP process and per client IP address, over a sliding window of
     * `windowSeconds`: after `authFailures` failed AUTH attempts, AUTH from that address gets 454 4.7.0 (the
     * password is not even checked) until the oldest failure leaves the window; the inbound listener takes
     * `inboundMessagesPerAddress` mail transactions from one address, then answers 451 4.7.1 (senders retry
     * later); `maxClients` connections at once per listener, then 421; `maxClientsPerAddress` of them from one address.
     */
    limits: z
      .object({
        /**
         * Connections served at once by each SMTP listener (submission, inbound, relay), a count; one more is
         * answered 421 and closed. @defaultValue 100
         */
        maxClients: z.coerce.number().int().min(1).default(100),
        /**
         * Failed AUTH attempts from one client IP address within `windowSeconds` (submission listener), a count;
         * past it AUTH gets 454 4.7.0 without the password being checked. @defaultValue 5
         */
        authFailures: z.coerce.number().int().min(1).default(5),
        /**
         * Mail transactions (MAIL FROM) the inbound listener takes from one client IP address within
         * `windowSeconds`, a count; past it 451 4.7.1. The submission and relay listeners have no such cap. @defaultValue 100
         */
        inboundMessagesPerAddress: z.coerce.number().int().min(1).default(100),
        /** The sliding window of `authFailures` and `inboundMessagesPerAddress`, in seconds. @defaultValue 300 (5 min) */
        windowSeconds: z.coerce.number().int().min(1).default(300),
        /** Connections at once from one client IP address, per listener (more get 421 4.7.0). @defaultValue 10 */
        maxClientsPerAddress: z.coerce.number().int().min(1).default(10),
      })
      .strict()
      .prefault({}),
    /** Sender accounts (SMTP AUTH). */
    accounts: z.array(smtpAccountEntry).default([]),
    /**
     * Sender policy: accept messages to plain e-mail addresses outside any ERDS (an address no directory
     * knows, participant `email:<address>`) and relay them as signed REM Dispatch mails through
     * `smtp.outbound`, with RelayToNonERDS / RelayToNonERDSFailure evidence (EN 319 522-1). Only for
     * authenticated senders; without it such recipients are refused (SubmissionRejection, SMTP 550 5.7.1).
     * @defaultValue false
     */
    relayToNonErds: z.boolean().default(false),
    /**
     * Inbound MX-style listener for plain mail from outside any ERDS (EN 319 522-1 ReceivedFromNonERDS): no
     * AUTH, STARTTLS offered, RCPT only for local participants of this AP (never a relay). The envelope
     * sender is recorded, unauthenticated, at the lowest assurance. Off unless configured.
     */
    inbound: z
      .object({
        /**
         * Address the inbound listener binds. The default takes mail from this machine only (e.g. from a local
         * MTA in front); a public MX needs `0.0.0.0` (or `::`). @defaultValue '127.0.0.1'
         */
        host: z.string().default('127.0.0.1'),
        /** TCP port; 0 picks a free one. @defaultValue 25 */
        port: z.coerce.number().int().min(0).max(65535).default(25),
      })
      .strict()
      .optional(),
    /**
     * Relay listener of the REM SMTP binding between access points (ETSI EN 319 522-4-1): peers whose directory
     * entry has an `smtp://host:port` endpoint (or transport profile `etsi-rem-smtp`) send their signed REM
     * Dispatches (C2 → C3) and REM Receipts with returned evidence (C3 → C2) here. STARTTLS is mandatory
     * before MAIL FROM (530), no AUTH (a peer is known by the seal of what it sends: it must be the AP the
     * directory names for the sender, under the trust store), RCPT only for local participants (550), never a
     * relay. Off unless configured. Its own address is what peers put in their directory entry for this AP:
     * `smtp://<host>:<port>?domain=<smtp.domain>`.
     */
    relay: z
      .object({
        /**
         * Address the relay listener binds. The default takes connections from this machine only; peers on other
         * hosts need `0.0.0.0` (or `::`). @defaultValue '127.0.0.1'
         */
        host: z.string().default('127.0.0.1'),
        /** TCP port; 0 picks a free one. @defaultValue 25 */
        port: z.coerce.number().int().min(0).max(65535).default(25),
        /** TLS certificate (PEM, chain after the leaf) of the listener; default: `smtp.tlsCert`, else the dev PKI's. */
        tlsCert: z.string().optional(),
        /** Its private key; default: `smtp.tlsKey`, else the dev PKI's. */
        tlsKey: z.string().optional(),
        /** Largest dispatch taken, in bytes (EHLO SIZE; 552 past it). @defaultValue `smtp.maxMessageBytes` */
        maxMessageBytes: z.coerce.number().int().min(1024).optional(),
      })
      .strict()
      .optional(),
    /**
     * Outbound SMTP (nodemailer): REM Dispatch mails to recipients with a `deliveryEmail` (C3 → C4) and REM
     * Receipt mails with every evidence to senders that have an SMTP account (C2 → C1). Mail stays off
     * without it. Retries of 4xx replies and connection failures follow `relay` (attempts, back-off).
     */
    outbound: z
      .object({
        /** Smart host / MTA to hand mail to. */
        host: z.string().min(1),
        /** TCP port of the smart host: 587 submission (STARTTLS), 465 with `secure`, 25 MTA to MTA. @defaultValue 587 */
        port: z.coerce.number().int().min(1).max(65535).default(587),
        /** TLS from the first byte (port 465); else STARTTLS when offered. @defaultValue false */
        secure: z.boolean().default(false),
        /** Refuse to send unless STARTTLS succeeds (a 4xx-like failure, retried). @defaultValue true */
        requireTls: z.boolean().default(true),
        /** CA certificates (PEM file) that issue the server's TLS certificate; default: the system's. */
        tlsCa: z.string().optional(),
        /** AUTH PLAIN/LOGIN credentials at the smart host. */
        auth: z
          .object({
            /** User name at the smart host. */
            user: z.string().min(1),
            /**
             * Its password, in clear (a secret: keep the config file private, or set it from the environment as
             * `QERDS__SMTP__OUTBOUND__AUTH__PASS`).
             */
            pass: z.string().min(1),
          })
          .strict()
          .optional(),
        /** The AP's own address (From of REM messages, envelope sender). @defaultValue `rem@<smtp.domain>` */
        from: z
          .string()
          .regex(/^[^@\s]+@[^@\s]+$/, 'must be an e-mail address')
          .optional(),
        /** Connections kept open and used at once (pooled, reused across mails). @defaultValue 5 */
        maxConnections: z.coerce.number().int().min(1).default(5),
        /** Connection, greeting and socket timeout, in ms. @defaultValue 30000 */
        timeoutMs: z.coerce.number().int().min(100).default(30_000),
      })
      .strict()
      .optional(),
  })
  .prefault({});
