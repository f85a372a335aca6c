import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import {
  api,
  RECIPIENT,
  SENDER,
  startTwoAccessPoints,
  type TwoAccessPoints,
} from '../../src/harness/two-access-points.js';
import { useOpenApiContract } from '../helpers/openapi-contract.js';
import { devTestPki } from '../helpers/pki.js';

/** `name{labels} value` lines of a Prometheus text exposition → value by `name{labels}`. */
function parseExposition(text: string): Map<string, number> {
  const samples = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const at = line.lastIndexOf(' ');
    samples.set(line.slice(0, at), Number(line.slice(at + 1)));
  }
  return samples;
}

describe('GET /metrics (Prometheus) after one message end to end', () => {
  useOpenApiContract();
  const work = mkdtempSync(join(tmpdir(), 'qerds-metrics-'));
  let net: TwoAccessPoints;
  beforeAll(async () => {
    await devTestPki(join(work, 'pki'));
    net = await startTwoAccessPoints({ outDir: join(work, 'out'), pkiDir: join(work, 'pki') });
  }, 60_000);
  afterAll(async () => {
    await net?.stop();
    rmSync(work, { recursive: true, force: true });
  });

  const scrape = async (base: string) => {
    const response = await fetch(`${base}/metrics`);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
    return parseExposition(await response.text());
  };

  it('counts messages by state, evidence by event, jobs, TSA requests and errors', async () => {
    const before = await scrape(net.c2.url);
    expect(before.get('qerds_outbox_jobs{stage="relay"}')).toBe(0);
    expect(before.has('qerds_evidence_issued_total{event="SubmissionAcceptance"}')).toBe(false);

    const form = new FormData();
    form.set('metadata', JSON.stringify({ recipient: RECIPIENT.id }));
    form.append('payload', new Blob(['<Invoice/>'], { type: 'application/xml' }), 'i.xml');
    const { id } = await api<{ id: string }>(net.c2.url, SENDER.key, '/api/v1/messages', {
      method: 'POST',
      body: form,
    });
    // C2 has relayed it and C3 holds it, consigned: the RelayAcceptance came back to C2.
    await vi.waitFor(
      async () => {
        const chain = await api<Array<{ event: string }>>(
          net.c2.url,
          SENDER.key,
          `/api/v1/messages/${id}/evidence`,
        );
        expect(chain.map((e) => e.event)).toEqual(
          expect.arrayContaining(['SubmissionAcceptance', 'RelayAcceptance', 'ContentConsignment']),
        );
      },
      { timeout: 20_000, interval: 100 },
    );

    const c2 = await scrape(net.c2.url);
    expect(c2.get('qerds_evidence_issued_total{event="SubmissionAcceptance"}')).toBe(1);
    expect(c2.get('qerds_evidence{event="SubmissionAcceptance"}')).toBe(1);
    expect(c2.get('qerds_evidence{event="RelayAcceptance"}')).toBe(1); // issued by C3, stored at C2
    expect(c2.get('qerds_messages{state="relayed"}')).toBe(1);
    expect(c2.get('qerds_job_duration_seconds_count{stage="relay",outcome="done"}')).toBe(1);
    expect(c2.get('qerds_job_duration_seconds_bucket{le="+Inf",stage="relay",outcome="done"}')).toBe(1);
    expect(c2.get('qerds_tsa_request_duration_seconds_count{outcome="ok"}')).toBeGreaterThanOrEqual(1);
    expect(c2.get('qerds_outbox_jobs{stage="relay"}')).toBe(0);

    const c3 = await scrape(net.c3.url);
    expect(c3.get('qerds_evidence_issued_total{event="RelayAcceptance"}')).toBe(1);
    expect(c3.get('qerds_evidence_issued_total{event="ContentConsignment"}')).toBe(1);
    expect(c3.get('qerds_messages{state="consigned"}')).toBe(1);
    expect(c3.get('qerds_process_resident_memory_bytes')).toBeGreaterThan(0);
  });
});
