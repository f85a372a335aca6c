import { readFileSync } from 'node:fs';
import { SENDER, startTwoAccessPoints, type TwoAccessPoints } from '../../src/harness/two-access-points.js';
import type { QerdsConfigInput } from '../../src/config/index.js';
import type { DevPkiLayout } from '../../src/pki/types.js';
import { hashPassword } from '../../src/smtp/index.js';
import { startSmtpSink, type SmtpSink } from './smtp-sink.js';

/** The demo sender's mailbox and its SMTP AUTH password at C2 (test-only). */
export const SENDER_EMAIL = 'keiri@sample-trading.example';
export const SENDER_PASSWORD = 'correct horse battery staple';

/**
 * An SMTP sink standing for the outside mail servers, presenting the dev PKI's TLS certificate (SAN 127.0.0.1),
 * and the `smtp.outbound` config of an AP that relays to it with STARTTLS required and verified.
 */
export async function startTlsSink(pki: DevPkiLayout): Promise<{
  sink: SmtpSink;
  outbound: { host: string; port: number; requireTls: true; tlsCa: string; timeoutMs: number };
}> {
  const sink = await startSmtpSink({
    key: readFileSync(pki.ap('c3').tlsKey),
    cert: readFileSync(pki.ap('c3').tlsCert),
  });
  return {
    sink,
    outbound: { host: '127.0.0.1', port: sink.port, requireTls: true, tlsCa: pki.caCert, timeoutMs: 5000 },
  };
}

/** C2's submission port (STARTTLS + AUTH) with the demo sender's account: `smtp` config to extend. */
export async function senderSubmissionSmtp(): Promise<{
  enabled: true;
  port: 0;
  domain: string;
  accounts: { username: string; passwordHash: string; participant: string; email: string }[];
}> {
  const passwordHash = await hashPassword(SENDER_PASSWORD);
  return {
    enabled: true,
    port: 0,
    domain: 'ap.example',
    accounts: [{ username: 'sample-trading', passwordHash, participant: SENDER.id, email: SENDER_EMAIL }],
  };
}

/** The two APs of a registered e-mail test and the TLS sink standing for every mail server outside them. */
export interface MailNetwork {
  readonly sink: SmtpSink;
  readonly aps: TwoAccessPoints;
  stop(): Promise<void>;
}

/**
 * Starts the sink, then both APs with what `configure` says for each; `outbound` is the sink as `smtp.outbound`
 * (STARTTLS required and verified), for the AP(s) whose mail should leave.
 */
export async function startMailNetwork(
  pki: DevPkiLayout,
  outDir: string,
  configure: (
    name: 'c2' | 'c3',
    outbound: Awaited<ReturnType<typeof startTlsSink>>['outbound'],
  ) => QerdsConfigInput,
): Promise<MailNetwork> {
  const { sink, outbound } = await startTlsSink(pki);
  const aps = await startTwoAccessPoints({
    outDir,
    pkiDir: pki.dir,
    overrides: (name) => configure(name, outbound),
  }).catch(async (error: unknown) => {
    await sink.close();
    throw error;
  });
  return {
    sink,
    aps,
    async stop() {
      await aps.stop();
      await sink.close();
    },
  };
}
