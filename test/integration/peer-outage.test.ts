import { mkdtempSync, rmSync } from 'node:fs';
import type { Server } from 'node:http';
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
import { forwardingProxy } from '../helpers/forwarding-proxy.js';
import { waitFor } from '../helpers/wait.js';
import { accessPointInternals } from '../../src/access-point/internals.js';
import { devTestPki } from '../helpers/pki.js';

/**
 * C3 down for a while (every connection to its AS4 endpoint dropped, as a restarting peer does), then back:
 * C2 keeps retrying within its budget and the message goes through — one message at C3, no RelayFailure.
 * The back-off is shortened for the test (relay.baseDelayMs/maxDelayMs); the budget of the defaults is
 * checked by arithmetic in test/pipeline/backoff.test.ts. The outage lasts more attempts than the old
 * default budget had (5).
 */
describe('a peer AP down, then back: the relay rides it out', () => {
  const work = mkdtempSync(join(tmpdir(), 'qerds-outage-'));
  let net: TwoAccessPoints;
  let proxy: Server;
  let down = true;
  let refused = 0;

  beforeAll(async () => {
    const pkiDir = join(work, 'pki');
    await devTestPki(pkiDir);
    net = await startTwoAccessPoints({
      outDir: join(work, 'aps'),
      pkiDir,
      logLevel: 'error',
      overrides: { relay: { baseDelayMs: 50, maxDelayMs: 200, maxAttempts: 60 } },
      // C3's AS4 endpoint behind a switch: down drops the connection, up forwards to C3.
      as4Endpoint: async (name, endpoint) => {
        if (name !== 'c3') return endpoint;
        const forwarding = await forwardingProxy(endpoint, {
          accept: () => {
            if (down) refused += 1;
            return !down;
          },
        });
        proxy = forwarding.server;
        return forwarding.url;
      },
    });
  }, 120_000);

  afterAll(async () => {
    await net?.stop();
    proxy?.close();
    rmSync(work, { recursive: true, force: true });
  });

  it('retries through the outage and delivers once, with no RelayFailure', async () => {
    const form = new FormData();
    form.set('metadata', JSON.stringify({ recipient: RECIPIENT.id, subject: 'through the outage' }));
    form.append(
      'payload',
      new Blob(['<Invoice><ID>outage</ID></Invoice>'], { type: 'application/xml' }),
      'invoice.xml',
    );
    const submitted = await api(net.c2.url, SENDER.key, '/api/v1/messages', { method: 'POST', body: form });
    const id = String(submitted.id);

    // Down for 8 attempts: past the old default budget (5 attempts), within this one.
    await waitFor(
      async () =>
        ((await accessPointInternals(net.c2).context.store.getMessage(id))?.attempts ?? 0) >= 8 || undefined,
      { timeoutMs: 90_000, what: '8 failed relay attempts' },
    );
    const during = await accessPointInternals(net.c2).context.store.getMessage(id);
    expect(during?.state).toBe('relaying');
    expect(refused).toBeGreaterThanOrEqual(8);
    down = false;

    const chain = await waitFor(
      async () => {
        const evidence = await accessPointInternals(net.c2).context.store.listEvidence(id);
        return evidence.some((e) => e.event === 'RelayAcceptance') ? evidence : undefined;
      },
      { timeoutMs: 90_000, what: 'the RelayAcceptance once C3 is back' },
    );
    expect(chain.map((e) => e.event)).not.toContain('RelayFailure');
    const relayed = await accessPointInternals(net.c2).context.store.getMessage(id);
    expect(relayed?.state).not.toBe('failed');
    const atC3 = (await accessPointInternals(net.c3).context.store.listMessages({ limit: 500 })).filter(
      (m) => m.ebmsMessageId === relayed!.ebmsMessageId,
    );
    expect(atC3).toHaveLength(1);
  }, 200_000);
});
