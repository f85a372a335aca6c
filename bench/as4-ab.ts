import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import express from 'express';

/**
 * The AS4 exchange of two checkouts in one process (this one and BENCH_AS4_AB_BASE, e.g. /work/wt/base): each side
 * loads its own src/as4 and src/pki, runs its own handler on loopback and its own client against it (gzip, RSA-2048
 * sign, RSA-OAEP/AES-128-GCM, signed NRR receipt checked), and batches of BENCH_AS4_AB_BATCH exchanges alternate
 * between the two sides, BENCH_AS4_AB_ROUNDS times. Process CPU per exchange of each side, and their ratio: measured
 * in the same run under the same load, it holds on a busy machine where separate runs vary by ±20 %.
 * BENCH_AS4_AB_SIZE bytes of payload (random), or XML-like text with BENCH_AS4_AB_XML=1.
 */
export async function benchAs4Ab(): Promise<void> {
  const baseRoot = process.env.BENCH_AS4_AB_BASE;
  if (!baseRoot) {
    console.log(
      'skipped: BENCH_AS4_AB_BASE=<another checkout> names the side to compare with (e.g. /work/wt/base)',
    );
    return;
  }
  const size = Number(process.env.BENCH_AS4_AB_SIZE ?? 1024);
  const batch = Number(process.env.BENCH_AS4_AB_BATCH ?? 40);
  const rounds = Number(process.env.BENCH_AS4_AB_ROUNDS ?? 10);
  const concurrency = Number(process.env.BENCH_CONCURRENCY ?? 4);
  const roots = { base: resolve(baseRoot), this: resolve(import.meta.dirname, '..') };
  const body = process.env.BENCH_AS4_AB_XML
    ? Buffer.from(
        '<e:Evidence xmlns:e="urn:x"><e:Item a="1">some evidence text</e:Item></e:Evidence>'.repeat(
          size / 80 + 1,
        ),
      ).subarray(0, size)
    : randomBytes(size);
  const dir = mkdtempSync(join(tmpdir(), 'qerds-bench-as4-ab-'));
  const servers: Server[] = [];
  try {
    const sides = new Map<string, () => Promise<void>>();
    for (const [name, root] of Object.entries(roots)) {
      const as4 = (await import(join(root, 'src/as4/index.ts'))) as typeof import('../src/as4/index.js');
      const pki = (await import(join(root, 'src/pki/index.ts'))) as typeof import('../src/pki/index.js');
      if (name === 'base') await pki.initDevPki({ dir });
      const layout = pki.devPkiLayout(dir);
      const c2 = pki.loadSigningIdentity(layout.ap('c2').sealCert, layout.ap('c2').sealKey);
      const c3 = pki.loadSigningIdentity(layout.ap('c3').sealCert, layout.ap('c3').sealKey);
      const trust = pki.loadTrustStore([layout.caCert]);
      const app = express();
      const limit = 64 * 1024 * 1024;
      app.post(
        '/as4',
        as4.createAs4Handler({
          identity: c3,
          trust,
          maxMessageBytes: limit,
          maxDecompressedBytes: limit,
          onUserMessage: async () => {},
        }),
      );
      const server = await new Promise<Server>((done) => {
        const s = app.listen(0, '127.0.0.1', () => done(s));
      });
      server.keepAliveTimeout = 120_000;
      server.headersTimeout = 125_000;
      servers.push(server);
      const endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}/as4`;
      let n = 0;
      sides.set(name, async () => {
        let left = batch;
        const sender = async () => {
          while (left-- > 0) {
            const i = n++;
            const contentId = `p-${i}@bench`;
            await as4.sendUserMessage({
              endpoint,
              identity: c2,
              trust,
              receiverCertificate: c3.certificate,
              encryptFor: c3.certificate,
              compress: true,
              attachments: [{ contentId, contentType: 'application/octet-stream', body }],
              message: {
                messageId: `ab-${name}-${i}@qerds`,
                timestamp: new Date(),
                from: { partyId: 'urn:bench:c2', role: 'urn:initiator' },
                to: { partyId: 'urn:bench:c3', role: 'urn:responder' },
                collaboration: { service: 'urn:bench', action: 'Deliver', conversationId: `c-${i}` },
                messageProperties: [],
                payloads: [
                  { href: `cid:${contentId}`, mimeType: 'application/octet-stream', properties: [] },
                ],
              },
            });
          }
        };
        await Promise.all(Array.from({ length: concurrency }, sender));
      });
    }
    for (const side of sides.values()) await side(); // warm-up
    const cpu = new Map<string, number[]>([...sides.keys()].map((k) => [k, []]));
    for (let r = 0; r < rounds; r++) {
      const order = r % 2 === 0 ? [...sides.keys()] : [...sides.keys()].reverse();
      for (const name of order) {
        const before = process.cpuUsage();
        await sides.get(name)!();
        const used = process.cpuUsage(before);
        cpu.get(name)!.push((used.user + used.system) / 1000 / batch);
      }
    }
    const mean = (xs: readonly number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
    const [base, self] = [mean(cpu.get('base')!), mean(cpu.get('this')!)];
    console.log(
      `${size} B ${process.env.BENCH_AS4_AB_XML ? 'XML' : 'random'}, ${rounds} × ${batch} exchanges per side, ${concurrency} concurrent: ` +
        `CPU per exchange base ${base.toFixed(2)} ms, this ${self.toFixed(2)} ms; this / base ${(self / base).toFixed(3)}`,
    );
  } finally {
    for (const server of servers) await new Promise<void>((done) => server.close(() => done()));
    rmSync(dir, { recursive: true, force: true });
  }
}
