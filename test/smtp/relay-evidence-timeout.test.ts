import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  api,
  RECIPIENT,
  SENDER,
  startTwoAccessPoints,
  type TwoAccessPoints,
} from '../../src/harness/two-access-points.js';
import { sharedTestPki } from '../helpers/pki.js';
import { waitFor } from '../helpers/wait.js';
import { startSmtpSink, type SmtpSink } from './smtp-sink.js';
import { accessPointInternals } from '../../src/access-point/internals.js';
import { claimPort } from '../helpers/ports.js';

/** Reached by SMTP at a server that takes the dispatch (250) and never returns any relay evidence. */
const SILENT = { id: '0188:7777777777777', name: 'Silent Peer KK' };
const EVIDENCE_TIMEOUT_MS = 1500;

/**
 * Reception awareness on the REM SMTP binding: a 250 only says the peer took the dispatch; C3's RelayAcceptance,
 * returned by mail, is what moves the message on at C2. When it never comes, a check due `relay.evidenceTimeoutMs`
 * after the 250 ends the message in RelayFailure (RB09), as a missing AS4 receipt does at once; when it came, the
 * check finds the message settled and does nothing.
 */
describe('REM SMTP relay binding: no relay evidence after the 250 → RelayFailure RB09', () => {
  const pki = sharedTestPki();
  const work = mkdtempSync(join(tmpdir(), 'qerds-relay-timeout-'));
  const ports = { c2: 0, c3: 0 };
  let sink: SmtpSink;
  let aps: TwoAccessPoints;

  beforeAll(async () => {
    sink = await startSmtpSink({
      key: readFileSync(pki.ap('c3').tlsKey),
      cert: readFileSync(pki.ap('c3').tlsCert),
    });
    // Claimed, not port 0: each AP's directory names both APs' SMTP relay endpoints before either listens.
    [ports.c2, ports.c3] = await Promise.all([claimPort(), claimPort()]);
    aps = await startTwoAccessPoints({
      outDir: work,
      pkiDir: pki.dir,
      as4Endpoint: (name) => `smtp://127.0.0.1:${ports[name]}?domain=${name}.example`,
      overrides: (name) => ({
        smtp: { domain: `${name}.example`, relay: { port: ports[name] } },
        relay: { maxAttempts: 2, evidenceTimeoutMs: EVIDENCE_TIMEOUT_MS },
      }),
      extraParticipants: [
        {
          id: SILENT.id,
          name: SILENT.name,
          servedBy: 'c3',
          endpoint: `smtp://127.0.0.1:${sink.port}?domain=c3.example`,
        },
      ],
    });
  }, 60_000);
  afterAll(async () => {
    await aps?.stop();
    await sink?.close();
  });

  async function submit(recipient: string): Promise<string> {
    const form = new FormData();
    form.set(
      'metadata',
      JSON.stringify({ recipient, subject: `evidence timeout ${randomBytes(3).toString('hex')}` }),
    );
    form.append('payload', new Blob(['<Invoice>9</Invoice>'], { type: 'application/xml' }), 'invoice.xml');
    return (
      await api<{ id: string }>(aps.c2.url, SENDER.key, '/api/v1/messages', { method: 'POST', body: form })
    ).id;
  }

  it('a peer that takes the dispatch and returns nothing: relaying, then RelayFailure RB09 after the timeout', async () => {
    const id = await submit(SILENT.id);
    await waitFor(() => (sink.mails.length > 0 ? true : undefined), {
      what: 'the dispatch at the silent peer',
      timeoutMs: 30_000,
    });
    const sentAt = Date.now();
    const failure = await waitFor(
      async () =>
        (await accessPointInternals(aps.c2).context.store.listEvidence(id)).find(
          (e) => e.event === 'RelayFailure',
        ),
      { what: 'RelayFailure', timeoutMs: 30_000 },
    );
    // Not before the deadline: the 250 is not a failure by itself.
    expect(Date.now() - sentAt).toBeGreaterThanOrEqual(EVIDENCE_TIMEOUT_MS - 500);
    expect(failure.xml).toContain('RB09');
    expect(failure.xml).toContain('returned no relay evidence in time');
    expect((await accessPointInternals(aps.c2).context.store.getMessage(id))?.state).toBe('failed');
    // One dispatch: the check does not send again.
    expect(sink.mails).toHaveLength(1);
  });

  it('a peer that returns its RelayAcceptance: the check due later finds the message settled and changes nothing', async () => {
    const id = await submit(RECIPIENT.id);
    await waitFor(
      async () =>
        (await accessPointInternals(aps.c2).context.store.listEvidence(id)).some(
          (e) => e.event === 'ContentConsignment',
        )
          ? true
          : undefined,
      {
        what: 'ContentConsignment back at C2',
        timeoutMs: 40_000,
      },
    );
    // Past the deadline, and past the outbox having run what was due.
    await waitFor(
      async () =>
        (await accessPointInternals(aps.c2).context.store.stats()).outboxByStage.relay ? undefined : true,
      { what: 'the due check run', timeoutMs: 30_000 },
    );
    const events = (await accessPointInternals(aps.c2).context.store.listEvidence(id)).map((e) => e.event);
    expect(events).not.toContain('RelayFailure');
    expect(['relayed', 'delivered']).toContain(
      (await accessPointInternals(aps.c2).context.store.getMessage(id))?.state,
    );
  });
});
