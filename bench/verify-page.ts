import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import express from 'express';
import { verifyPageRouter } from '../src/api/verify-page.js';
import { sequentialIdGenerator } from '../src/core/ids.js';
import { buildEvidenceXml, issueEvidence, xadesSealer } from '../src/evidence/index.js';
import { initDevPki, loadSigningIdentity, loadTrustStore } from '../src/pki/index.js';
import { createLocalTsaClient, createTimestampAuthority } from '../src/timestamp/index.js';
import { evidenceSamples } from '../test/fixtures/evidence/load-samples.js';
import { formatMs, percentile } from './stats.js';

/**
 * The public verification page's answer time for a ~20 KB evidence (B-T, RSA-2048): real HTTP on loopback,
 * a multipart form post as a browser sends it, the page rendered. Sequential requests after a warm-up; wall
 * time per answer (p50/p99) and the server process's CPU per answer. The rate limit is lifted for the run.
 */
export async function benchVerifyPage(): Promise<void> {
  const n = Number(process.env.BENCH_DOCS ?? 200);
  const dir = mkdtempSync(join(tmpdir(), 'qerds-bench-page-'));
  const { layout } = await initDevPki({ dir: join(dir, 'pki') });
  const trust = loadTrustStore([layout.caCert, layout.caCrl]);
  const clock = { now: () => new Date() };
  const tsa = createLocalTsaClient(
    createTimestampAuthority({ identity: loadSigningIdentity(layout.tsaCert, layout.tsaKey) }),
  );
  const sealer = xadesSealer({
    identity: loadSigningIdentity(layout.ap('c2').sealCert, layout.ap('c2').sealKey),
    tsa,
    clock,
    idGenerator: sequentialIdGenerator(),
  });
  // Parts until the evidence is about 20 KB: an invoice with its attachments.
  const base = evidenceSamples().SubmissionAcceptance;
  const part = base.parts[0]!;
  let data = base;
  for (let i = 2; buildEvidenceXml(data).length < 13_500; i++)
    data = { ...data, parts: [...data.parts, { ...part, partId: `part-${i}` }] };
  const xml = (await issueEvidence(data, sealer)).xml;

  const app = express();
  app.use(verifyPageRouter({ trust, clock, maxPerMinute: Number.MAX_SAFE_INTEGER }));
  const server = app.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/verify?lang=en`;
  const post = async () => {
    const form = new FormData();
    form.append('file', new Blob([xml], { type: 'application/xml' }), 'evidence.xml');
    const res = await fetch(url, { method: 'POST', body: form });
    const html = await res.text();
    if (res.status !== 200 || !html.includes('data-verdict="valid"'))
      throw new Error(`the page did not answer valid (${res.status})`);
  };
  console.log(
    `settings: evidence of ${xml.length} B (B-T, RSA-2048, ${data.parts.length} parts), ${n} sequential posts after 20 warm-up, loopback HTTP, one process`,
  );
  for (let i = 0; i < 20; i++) await post();
  const times: number[] = [];
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  for (let i = 0; i < n; i++) {
    const t = performance.now();
    await post();
    times.push(performance.now() - t);
  }
  const wall = performance.now() - t0;
  const cpu = process.cpuUsage(cpu0);
  server.close();
  rmSync(dir, { recursive: true, force: true });
  console.log(
    `  answer time p50 ${formatMs(percentile(times, 50))}, p99 ${formatMs(percentile(times, 99))}; ${(n / (wall / 1000)).toFixed(1)} answers/s`,
  );
  console.log(
    `  CPU per answer (client and server in this process): ${formatMs((cpu.user + cpu.system) / 1000 / n)}`,
  );
}
