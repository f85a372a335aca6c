import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import express from 'express';
import { createAs4Handler, sendUserMessage, type Attachment, type UserMessage } from '../src/as4/index.js';
import { devPkiLayout, initDevPki, loadSigningIdentity, loadTrustStore } from '../src/pki/index.js';
import { formatMs, percentile } from './stats.js';

const MiB = 1024 * 1024;

/**
 * AS4 alone, client and handler in one process on loopback: each message is GZIP-compressed, signed
 * (RSA-SHA256), encrypted (RSA-OAEP + AES-128-GCM, eDelivery 1.15), pushed over HTTP, decrypted,
 * verified, inflated, and answered with a signed NRR receipt that the client verifies.
 * Sizes and counts: BENCH_AS4_SIZES (bytes, comma-separated), BENCH_AS4_MESSAGES (per size, comma-separated).
 * Payloads are random (incompressible: gzip costs time and saves nothing — the worst case).
 * CPU per exchange: this process's user + system CPU over the measured messages (after BENCH_AS4_WARMUP
 * unmeasured ones per size, default 10), divided by their number. Client and handler share the process, so it
 * is the whole exchange: pack + send + receipt check at C2, unpack + decrypt + verify + receipt at C3.
 * BENCH_AS4_PROFILE=<prefix>: a V8 CPU profile of the measured messages of each size (warm-up and PKI set-up
 * left out) is written to <prefix>-<size>.cpuprofile, for bench/cpu-profile-summary.ts `--per <count>`.
 */
export async function benchAs4(): Promise<void> {
  const sizes = (process.env.BENCH_AS4_SIZES ?? `${1024},${100 * 1024},${10 * MiB}`).split(',').map(Number);
  const counts = (process.env.BENCH_AS4_MESSAGES ?? '200,100,10').split(',').map(Number);
  const concurrency = Number(process.env.BENCH_CONCURRENCY ?? 4);
  const warmup = Number(process.env.BENCH_AS4_WARMUP ?? 10);
  const dir = mkdtempSync(join(tmpdir(), 'qerds-bench-as4-'));
  try {
    await initDevPki({ dir });
    const pki = devPkiLayout(dir);
    const c2 = loadSigningIdentity(pki.ap('c2').sealCert, pki.ap('c2').sealKey);
    const c3 = loadSigningIdentity(pki.ap('c3').sealCert, pki.ap('c3').sealKey);
    const trust = loadTrustStore([pki.caCert]);
    const app = express();
    const limit = Math.max(64 * MiB, 2 * Math.max(...sizes));
    app.post(
      '/as4',
      createAs4Handler({
        identity: c3,
        trust,
        maxMessageBytes: limit,
        maxDecompressedBytes: limit,
        onUserMessage: async () => {},
      }),
    );
    const server = await new Promise<Server>((resolve) => {
      const s = app.listen(0, '127.0.0.1', () => resolve(s));
    });
    // A CPU-bound handler delays the keep-alive timer: a socket closed "idle" while the client reuses it
    // would show up as ECONNRESET, which is the bench's artefact, not AS4's.
    server.keepAliveTimeout = 120_000;
    server.headersTimeout = 125_000;
    const endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}/as4`;
    console.log(
      `settings: gzip + RSA-2048 sign + RSA-OAEP/AES-128-GCM encrypt, push over loopback HTTP, ${concurrency} concurrent senders, client and handler in one process`,
    );
    for (const [i, size] of sizes.entries()) {
      const count = counts[i] ?? counts.at(-1)!;
      const body = randomBytes(size);
      let peakRss = process.memoryUsage().rss;
      const sampler = setInterval(() => {
        peakRss = Math.max(peakRss, process.memoryUsage().rss);
      }, 20);
      const latencies: number[] = [];
      let next = 0;
      const sender = async (phase: string, total: number, into: number[]) => {
        while (next < total) {
          const n = next++;
          const attachments: Attachment[] = [
            { contentId: `p-${phase}-${n}@bench`, contentType: 'application/octet-stream', body },
          ];
          const message: UserMessage = {
            messageId: `bench-${phase}-${size}-${n}@qerds`,
            timestamp: new Date(),
            from: { partyId: 'urn:bench:c2', role: 'urn:initiator' },
            to: { partyId: 'urn:bench:c3', role: 'urn:responder' },
            collaboration: { service: 'urn:bench', action: 'Deliver', conversationId: `c-${n}` },
            messageProperties: [],
            payloads: [
              { href: `cid:p-${phase}-${n}@bench`, mimeType: 'application/octet-stream', properties: [] },
            ],
          };
          const t = performance.now();
          await sendUserMessage({
            endpoint,
            message,
            attachments,
            identity: c2,
            trust,
            receiverCertificate: c3.certificate,
            encryptFor: c3.certificate,
            compress: true,
          });
          into.push(performance.now() - t);
        }
      };
      await Promise.all(Array.from({ length: concurrency }, () => sender('warmup', warmup, [])));
      next = 0;
      const profiler = process.env.BENCH_AS4_PROFILE ? new Session() : undefined;
      if (profiler) {
        profiler.connect();
        await profiler.post('Profiler.enable');
        await profiler.post('Profiler.start');
      }
      const t0 = performance.now();
      const cpu0 = process.cpuUsage();
      await Promise.all(Array.from({ length: concurrency }, () => sender('run', count, latencies)));
      const cpu = process.cpuUsage(cpu0);
      const seconds = (performance.now() - t0) / 1000;
      if (profiler) {
        const { profile } = await profiler.post('Profiler.stop');
        writeFileSync(`${process.env.BENCH_AS4_PROFILE}-${size}.cpuprofile`, JSON.stringify(profile));
        profiler.disconnect();
      }
      clearInterval(sampler);
      console.log(
        `${String(size).padStart(9)} B × ${count}: ${(count / seconds).toFixed(1)} messages/s, ${((count * size) / MiB / seconds).toFixed(1)} MiB/s, ` +
          `p50 ${formatMs(percentile(latencies, 50))}, p95 ${formatMs(percentile(latencies, 95))}, peak RSS ${(peakRss / MiB).toFixed(0)} MiB, ` +
          `CPU ${((cpu.user + cpu.system) / 1000 / count).toFixed(2)} ms per exchange (user ${(cpu.user / 1000 / count).toFixed(2)} + system ${(cpu.system / 1000 / count).toFixed(2)})`,
      );
    }
    await new Promise<void>((resolve) => server.close(() => resolve()));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
