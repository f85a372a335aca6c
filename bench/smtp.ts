import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createTransport } from 'nodemailer';
import { RECIPIENT, SENDER, startTwoAccessPoints } from '../src/harness/two-access-points.js';
import { devPkiLayout, initDevPki } from '../src/pki/index.js';
import { hashPassword } from '../src/smtp/index.js';
import { startSmtpSink } from '../test/smtp/smtp-sink.js';
import { formatMs, percentile } from './stats.js';

const SENDER_EMAIL = 'keiri@sample-trading.example';
const RECIPIENT_EMAIL = 'soumu@test-works.example';

/**
 * Registered e-mail end to end, in-process pipeline, SQLite: C1 submits N small mails to C2's submission
 * port (nodemailer, one pooled connection, STARTTLS + AUTH PLAIN); C2 seals SubmissionAcceptance, relays
 * over AS4 to C3, which consigns and sends each as a signed REM Dispatch to a local SMTP sink (the
 * recipient's mail server), and every evidence goes back to the sender as a signed REM Receipt (at the
 * same sink). Reports: mails/s accepted on the submission port (250 after DATA), mails/s delivered end to
 * end (REM Dispatch accepted by the sink), and the latency submit → dispatch at the sink.
 */
export async function benchSmtp(): Promise<void> {
  const messages = Number(process.env.BENCH_MESSAGES ?? 200);
  const concurrency = Number(process.env.BENCH_CONCURRENCY ?? 8);
  const dir = mkdtempSync(join(tmpdir(), 'qerds-bench-smtp-'));
  const pkiDir = join(dir, 'pki');
  await initDevPki({ dir: pkiDir });
  const pki = devPkiLayout(pkiDir);
  const sink = await startSmtpSink({
    key: readFileSync(pki.ap('c3').tlsKey),
    cert: readFileSync(pki.ap('c3').tlsCert),
  });
  const password = randomBytes(12).toString('hex');
  const passwordHash = await hashPassword(password);
  const outbound = {
    host: '127.0.0.1',
    port: sink.port,
    requireTls: true,
    tlsCa: pki.caCert,
    maxConnections: 4,
  };
  const net = await startTwoAccessPoints({
    outDir: dir,
    pkiDir,
    logLevel: 'error',
    overrides: (name) => ({
      queue: { pollIntervalMs: 20, concurrency },
      ...(name === 'c2'
        ? {
            smtp: {
              enabled: true,
              port: 0,
              domain: 'ap.example',
              accounts: [{ username: 'bench', passwordHash, participant: SENDER.id, email: SENDER_EMAIL }],
              outbound,
            },
          }
        : {
            smtp: { domain: 'c3.example', outbound },
            accounts: [
              {
                participant: RECIPIENT.id,
                name: RECIPIENT.name,
                credentials: [
                  {
                    kind: 'apiKey' as const,
                    keySha256: createHash('sha256').update(randomBytes(32)).digest('hex'),
                  },
                ],
                deliveryEmail: RECIPIENT_EMAIL,
              },
            ],
          }),
    }),
  });
  console.log(
    `settings: ${messages} mails of ~0.5 KiB, one pooled nodemailer connection (STARTTLS + AUTH PLAIN), queue concurrency ${concurrency}, ` +
      'outbound pool 4 connections (STARTTLS) to a local smtp-server sink, SQLite, in-process queue, embedded TSA, RSA-2048 seals',
  );
  const client = createTransport({
    pool: true,
    maxConnections: 1,
    maxMessages: Infinity,
    host: '127.0.0.1',
    port: net.c2.smtpAddress!.port,
    secure: false,
    requireTLS: true,
    tls: { ca: readFileSync(pki.caCert) },
    auth: { user: 'bench', pass: password },
  });
  const run = randomBytes(3).toString('hex');
  const submittedAt = new Map<string, number>();
  const started = performance.now();
  const startedWall = Date.now();
  await Promise.all(
    Array.from({ length: messages }, async (_, i) => {
      const subject = `bench ${run} ${i}`;
      await client.sendMail({
        from: SENDER_EMAIL,
        to: '0188-9876543210987@ap.example',
        subject,
        text: `Invoice ${i}\n${'x'.repeat(400)}\n`,
      });
      submittedAt.set(subject, Date.now());
    }),
  );
  const accepted = (performance.now() - started) / 1000;
  console.log(
    `submission port: ${(messages / accepted).toFixed(1)} mails/s accepted (${messages} in ${accepted.toFixed(2)} s, 250 after DATA each)`,
  );

  const dispatches = () => sink.mailsTo(RECIPIENT_EMAIL).filter((m) => m.raw.includes(`bench ${run} `));
  await waitUntil(() => dispatches().length >= messages, 600_000);
  const delivered = (performance.now() - started) / 1000;
  console.log(
    `end to end: ${(messages / delivered).toFixed(1)} mails/s delivered as REM Dispatch at the recipient's server (${messages} in ${delivered.toFixed(2)} s)`,
  );
  const latencies = dispatches().flatMap((m) => {
    const subject = /^Subject: REM ContentConsignment: (.*)$/m.exec(m.raw.toString('utf8'))?.[1]?.trim();
    const t0 = subject ? submittedAt.get(subject) : undefined;
    return t0 === undefined ? [] : [m.receivedAt - t0];
  });
  console.log(
    `latency 250 at C2 → REM Dispatch at the sink: p50 ${formatMs(percentile(latencies, 50))}, p99 ${formatMs(percentile(latencies, 99))}, max ${formatMs(Math.max(...latencies))}`,
  );
  // Four evidences per message come back to the sender by mail (SubmissionAcceptance, RelayAcceptance, ContentConsignment, ContentHandover).
  const receipts = () => sink.mailsTo(SENDER_EMAIL).filter((m) => m.receivedAt >= startedWall).length;
  await waitUntil(() => receipts() >= messages * 4, 600_000);
  const receipted = (performance.now() - started) / 1000;
  console.log(
    `evidence by mail: ${receipts()} signed REM Receipts at the sender's mailbox after ${receipted.toFixed(2)} s (${(receipts() / receipted).toFixed(1)} receipts/s)`,
  );
  client.close();
  await net.stop();
  await sink.close();
  rmSync(dir, { recursive: true, force: true });
}

async function waitUntil(done: () => boolean, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!done()) {
    if (Date.now() > deadline) throw new Error('bench timed out');
    await new Promise((r) => setTimeout(r, 20));
  }
}
