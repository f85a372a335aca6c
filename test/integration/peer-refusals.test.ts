import { mkdtempSync } from 'node:fs';
import type { Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  api,
  SENDER,
  startTwoAccessPoints,
  type TwoAccessPoints,
} from '../../src/harness/two-access-points.js';
import { acceptReturnedEvidence } from '../../src/pipeline/index.js';
import { forwardingProxy } from '../helpers/forwarding-proxy.js';
import { waitFor } from '../helpers/wait.js';
import { accessPointInternals } from '../../src/access-point/internals.js';
import { devTestPki } from '../helpers/pki.js';

/**
 * What happens when the recipient's AP refuses, and who may speak for whom (found in review):
 * - a recipient C3 does not serve ends the message at C2 as `failed`, with RelayFailure and C3's RelayRejection
 *   (a retry must not turn the refusal into a receipt), also when C3's RelayRejection comes back before its error
 *   answer does (C3 queues the evidence, then answers: on a busy machine either may arrive first at C2);
 * - evidence is only taken back from the AP that sealed it, and only about the message's own participants.
 */
const work = mkdtempSync(join(tmpdir(), 'qerds-refusals-'));
const UNSERVED = { id: '0188:5555555555555', name: 'Not served by C3' };

describe('peer refusals and evidence binding', () => {
  let net: TwoAccessPoints;
  let proxy: Server | undefined;
  /** Set by a test: C3's answers are held until this resolves, then forwarded (`held` counts those requests). */
  let holdAnswer: (() => Promise<void>) | undefined;
  let held = 0;
  beforeAll(async () => {
    const pkiDir = join(work, 'pki');
    await devTestPki(pkiDir);
    net = await startTwoAccessPoints({
      outDir: work,
      pkiDir,
      extraParticipants: [{ ...UNSERVED, servedBy: 'c3' }],
      // C3's AS4 endpoint behind a proxy that forwards everything, and can hold an answer back.
      as4Endpoint: async (name, endpoint) => {
        if (name !== 'c3') return endpoint;
        const forwarding = await forwardingProxy(endpoint, {
          accept: () => {
            if (holdAnswer) held += 1;
            return true;
          },
          beforeAnswer: () => holdAnswer?.(),
        });
        proxy = forwarding.server;
        return forwarding.url;
      },
    });
  }, 60_000);
  afterAll(async () => {
    await net?.stop();
    proxy?.close();
  });

  async function submitToUnserved(): Promise<string> {
    const form = new FormData();
    form.set('metadata', JSON.stringify({ recipient: UNSERVED.id }));
    form.append('payload', new Blob(['<Invoice/>'], { type: 'application/xml' }), 'i.xml');
    const { id } = await api<{ id: string }>(net.c2.url, SENDER.key, '/api/v1/messages', {
      method: 'POST',
      body: form,
    });
    return id;
  }

  async function eventsAtC2(id: string): Promise<string[]> {
    return (await accessPointInternals(net.c2).context.store.listEvidence(id)).map((e) => e.event);
  }

  it('a recipient the recipient AP does not serve ends as failed at C2, with RelayFailure and RelayRejection', async () => {
    const id = await submitToUnserved();
    const events = await waitFor(
      async () => {
        const chain = await api<Array<{ event: string }>>(
          net.c2.url,
          SENDER.key,
          `/api/v1/messages/${id}/evidence`,
        );
        const names = chain.map((e) => e.event);
        return names.includes('RelayFailure') && names.includes('RelayRejection') ? names : undefined;
      },
      { timeoutMs: 20_000 },
    );
    expect(events).toEqual(
      expect.arrayContaining(['SubmissionAcceptance', 'RelayFailure', 'RelayRejection']),
    );
    expect(events).not.toContain('RelayAcceptance');
    const message = await accessPointInternals(net.c2).context.store.getMessage(id);
    expect(message?.state).toBe('failed');
    // One attempt: EBMS:0001 is final, not retried into a "duplicate" receipt.
    expect(message?.attempts).toBe(1);
  });

  it("the same when C3's RelayRejection reaches C2 before C3's error answer does: RelayFailure too, one attempt", async () => {
    let id: string | undefined;
    // C3's answer to the relay is held until its RelayRejection (sent back on its own) is recorded at C2.
    holdAnswer = async () => {
      await waitFor(async () => (id && (await eventsAtC2(id)).includes('RelayRejection')) || undefined, {
        timeoutMs: 60_000,
        what: "C3's RelayRejection at C2",
      });
    };
    try {
      id = await submitToUnserved();
      const events = await waitFor(
        async () => {
          const names = await eventsAtC2(id!);
          return names.includes('RelayFailure') ? names : undefined;
        },
        { timeoutMs: 60_000, what: 'RelayFailure after the RelayRejection' },
      );
      expect(events.indexOf('RelayRejection')).toBeLessThan(events.indexOf('RelayFailure'));
      expect(events.filter((e) => e === 'RelayFailure')).toHaveLength(1);
      expect(events).not.toContain('RelayAcceptance');
      const message = await accessPointInternals(net.c2).context.store.getMessage(id);
      expect(message?.state).toBe('failed');
      // RB02: C3's EBMS:0001 answer names no reason code of its own.
      expect(message?.lastError).toBe('RB02');
      // One relay request: the final refusal was not retried.
      expect(held).toBe(1);
    } finally {
      holdAnswer = undefined;
    }
  }, 150_000);

  it('refuses evidence sealed by another AP than the one that sent it, or about other participants', async () => {
    const form = new FormData();
    form.set('metadata', JSON.stringify({ recipient: '0188:9876543210987' }));
    form.append('payload', new Blob(['<Invoice/>'], { type: 'application/xml' }), 'i.xml');
    const { id } = await api<{ id: string }>(net.c2.url, SENDER.key, '/api/v1/messages', {
      method: 'POST',
      body: form,
    });
    const c3Evidence = await waitFor(
      async () => {
        const relayed = await accessPointInternals(net.c2).context.store.getMessage(id);
        const atC3 =
          relayed &&
          (await accessPointInternals(net.c3).context.store.findMessageByEbmsId(
            relayed.ebmsMessageId,
            'recipient-ap',
          ));
        return atC3 ? (await accessPointInternals(net.c3).context.store.listEvidence(atC3.id))[0] : undefined;
      },
      { timeoutMs: 20_000 },
    );
    // Claimed to arrive from C2's own seal (not C3's): refused before anything is stored.
    await expect(
      acceptReturnedEvidence(
        accessPointInternals(net.c2).context,
        c3Evidence.xml,
        accessPointInternals(net.c2).identity.certificate.fingerprint256,
      ),
    ).rejects.toMatchObject({
      code: 'PIPELINE_EVIDENCE_INVALID',
    });
    // From the AP that sealed it: accepted (or already there).
    await expect(
      acceptReturnedEvidence(
        accessPointInternals(net.c2).context,
        c3Evidence.xml,
        accessPointInternals(net.c3).identity.certificate.fingerprint256,
      ),
    ).resolves.toBeDefined();
  });
});
