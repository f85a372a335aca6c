import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { api, RECIPIENT, SENDER, startTwoAccessPoints } from '../src/harness/two-access-points.js';
import { initDevPki } from '../src/pki/index.js';
import { formatMs, percentile } from './stats.js';
import { accessPointInternals } from '../src/access-point/internals.js';

/**
 * The demo's path, in-process pipeline, SQLite: C1 submits over REST to C2, C2 seals + timestamps the
 * SubmissionAcceptance, relays over AS4 to C3, which verifies, stores, seals RelayAcceptance and answers
 * with a signed receipt. Latency is submit → C2 sees the message `relayed` (receipt verified).
 */
export async function benchDemoPath(): Promise<void> {
  const messages = Number(process.env.BENCH_MESSAGES ?? 200);
  const concurrency = Number(process.env.BENCH_CONCURRENCY ?? 8);
  const payloadBytes = Number(process.env.BENCH_PAYLOAD ?? 1024);
  // The submitters' own status polls run in this process too, so they are in the CPU figure, and their
  // number grows with latency (with the machine's load): at 5 ms they were a large, load-dependent part
  // of it. Counted and printed, so the share is visible.
  const pollMs = Number(process.env.BENCH_POLL_MS ?? 25);
  // BENCH_KEY=ec: P-256 e-seals and TSA (`qerds pki init --key ec`); AS4 is then signed with each AP's RSA AS4
  // signing key (the P-Modes sign with RSA), AS4 encryption stays RSA-OAEP.
  const keyType = process.env.BENCH_KEY === 'ec' ? 'ec' : 'rsa';
  let polls = 0;
  const dir = mkdtempSync(join(tmpdir(), 'qerds-bench-'));
  await initDevPki({ dir: join(dir, 'pki'), key: keyType });
  const net = await startTwoAccessPoints({
    outDir: dir,
    pkiDir: join(dir, 'pki'),
    logLevel: 'error',
    overrides: { queue: { pollIntervalMs: 20, concurrency } },
  });
  console.log(
    `settings: ${messages} messages, ${payloadBytes} B payload, ${concurrency} concurrent submitters, queue concurrency ${concurrency}, SQLite, in-process queue, embedded TSA, ${keyType === 'ec' ? 'ECDSA P-256 seals and TSA, RSA-2048 AS4 signing and encryption' : 'RSA-2048 seals, TSA and AS4'}`,
  );
  const payload = Buffer.alloc(payloadBytes, 'x');
  const latencies: number[] = [];
  // Process CPU (user + system) over the messages only, start-up excluded: both APs, the queue and the
  // embedded TSA run in this one process, so this is the whole path's cost, and unlike wall time it does
  // not depend on what else the machine is doing.
  const cpuBefore = process.cpuUsage();
  const started = performance.now();
  let next = 0;
  const submitter = async () => {
    while (next < messages) {
      next++;
      const t0 = performance.now();
      const form = new FormData();
      form.set('metadata', JSON.stringify({ recipient: RECIPIENT.id }));
      form.append('payload', new Blob([payload], { type: 'application/octet-stream' }), 'p.bin');
      const { id } = await api<{ id: string }>(net.c2.url, SENDER.key, '/api/v1/messages', {
        method: 'POST',
        body: form,
      });
      for (;;) {
        polls++;
        const message = await accessPointInternals(net.c2).context.store.getMessage(id);
        if (message?.state === 'relayed' || message?.state === 'delivered') break;
        if (message?.state === 'failed') throw new Error(`message ${id} failed: ${message.lastError}`);
        await new Promise((r) => setTimeout(r, pollMs));
      }
      latencies.push(performance.now() - t0);
    }
  };
  await Promise.all(Array.from({ length: concurrency }, submitter));
  const seconds = (performance.now() - started) / 1000;
  const cpu = process.cpuUsage(cpuBefore);
  const cpuMs = (cpu.user + cpu.system) / 1000;
  console.log(
    `throughput: ${(messages / seconds).toFixed(1)} messages/s (${messages} in ${seconds.toFixed(2)} s)`,
  );
  console.log(
    `cpu: ${(cpuMs / messages).toFixed(1)} ms per message (user ${(cpu.user / 1000 / messages).toFixed(1)} + system ${(cpu.system / 1000 / messages).toFixed(1)}; ${(cpuMs / 1000).toFixed(2)} s over ${messages}; ${(polls / messages).toFixed(0)} status polls per message, every ${pollMs} ms)`,
  );
  console.log(
    `latency submit → relayed: p50 ${formatMs(percentile(latencies, 50))}, p99 ${formatMs(percentile(latencies, 99))}, max ${formatMs(Math.max(...latencies))}`,
  );
  await net.stop();
  rmSync(dir, { recursive: true, force: true });
}
