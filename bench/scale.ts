import { mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { api, RECIPIENT, SENDER } from '../src/harness/two-access-points.js';
import { initDevPki } from '../src/pki/index.js';
import { startApCluster, type ApClusterOptions } from '../test/helpers/ap-cluster.js';
import { CpuWindow, pidsByRole } from '../test/helpers/process-cpu.js';
import { percentile } from './stats.js';

/**
 * BENCH=scale: the same traffic through two APs run as real processes, embedded (SQLite + in-process
 * queue, one `qerds start` per AP) and at scale (PostgreSQL + BullMQ, per AP an API-only process and
 * 1, 2 or 4 `qerds worker` processes). `BENCH_CONCURRENCY` submitters each submit a message of
 * `BENCH_PAYLOAD` bytes, wait until C2 has it `relayed` (C3's signed receipt verified), and submit the
 * next. Two latencies per message, observed by polling the stores every 10 ms:
 * - submit → relayed at C2;
 * - submit → ContentConsignment back at C2 (C3 consigned it, sealed the evidence and returned it).
 * Throughput is messages / (first submit → last ContentConsignment at C2). CPU ms per message is what the AP
 * processes, at scale with their PostgreSQL backends and Redis, spent in that time (from /proc): on a machine with
 * few cores, more processes share the same cores, and that column shows what the extra processes cost.
 */
export async function benchScale(): Promise<void> {
  const messages = Number(process.env.BENCH_MESSAGES ?? 200);
  const concurrency = Number(process.env.BENCH_CONCURRENCY ?? 16);
  const payloadBytes = Number(process.env.BENCH_PAYLOAD ?? 1024);
  const queueConcurrency = Number(process.env.BENCH_QUEUE_CONCURRENCY ?? 4);
  const workerCounts = (process.env.BENCH_WORKERS ?? '1,2,4').split(',').map(Number);
  const dir = mkdtempSync(join(tmpdir(), 'qerds-bench-scale-'));
  const pkiDir = join(dir, 'pki');
  await initDevPki({ dir: pkiDir });
  console.log(
    `settings: ${messages} messages of ${payloadBytes} B, ${concurrency} closed-loop submitters, queue.concurrency ${queueConcurrency} per stage per process, ` +
      `embedded TSA, RSA-2048 seals, loopback; scale = PostgreSQL ${process.env.QERDS_TEST_PG_URL ?? '127.0.0.1:5432'} + Redis (BullMQ), ` +
      `per AP one API-only process + N worker processes`,
  );
  const configurations: Array<{ label: string; options: Omit<ApClusterOptions, 'work' | 'pkiDir'> }> = [
    { label: 'embedded (SQLite, in-process)', options: { kind: 'embedded' } },
    ...workerCounts.map((n) => ({
      label: `PG + BullMQ, ${n} worker${n === 1 ? '' : 's'}/AP`,
      options: { kind: 'scale' as const, workersPerAp: n },
    })),
  ];
  const rows: string[][] = [];
  try {
    for (const { label, options } of configurations) {
      // The machine may be shared: the 1-minute load average before and after each run goes beside its figures.
      const loadBefore = loadavg()[0]!;
      const result = await runOne(
        { ...options, work: dir, pkiDir, concurrency: queueConcurrency, pollIntervalMs: 20 },
        messages,
        concurrency,
        payloadBytes,
      );
      rows.push([
        label,
        String(options.kind === 'scale' ? 2 + 2 * (options.workersPerAp ?? 1) : 2),
        result.throughput.toFixed(1),
        percentile(result.relayed, 50).toFixed(0),
        percentile(result.relayed, 99).toFixed(0),
        percentile(result.consigned, 50).toFixed(0),
        percentile(result.consigned, 99).toFixed(0),
        result.cpuMsPerMessage.toFixed(1),
        `${loadBefore.toFixed(1)} → ${loadavg()[0]!.toFixed(1)}`,
      ]);
      // Each row as soon as it is known: a later configuration that fails (a loaded machine) keeps these.
      console.log(`  ${label}: done in ${result.seconds.toFixed(1)} s | ${rows.at(-1)!.join(' | ')}`);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  printTable(
    [
      'configuration',
      'AP processes',
      'msg/s',
      'relayed p50 ms',
      'relayed p99 ms',
      'consigned@C2 p50 ms',
      'consigned@C2 p99 ms',
      'CPU ms/msg',
      'load 1m',
    ],
    rows,
  );
}

async function runOne(
  options: ApClusterOptions,
  messages: number,
  concurrency: number,
  payloadBytes: number,
) {
  const cluster = await startApCluster(options);
  try {
    const payload = Buffer.alloc(payloadBytes, 'x');
    const submittedAt = new Map<string, number>();
    const relayedAt = new Map<string, number>();
    const consignedAt = new Map<string, number>();
    const waiting = new Map<string, () => void>();
    let polling = true;
    let failure: Error | undefined;
    // One observer for all messages: a query per tick, not one per message.
    const observer = (async () => {
      while (polling) {
        const now = performance.now();
        const states = await cluster.sql<{ id: string; state: string }>(
          'c2',
          `select id, state from {schema}.messages where state not in ('submitted', 'relaying')`,
        );
        for (const { id, state } of states) {
          if (state === 'failed') failure ??= new Error(`message ${id} failed`);
          if (!relayedAt.has(id)) relayedAt.set(id, now);
          waiting.get(id)?.();
        }
        const consigned = await cluster.sql<{ message_id: string }>(
          'c2',
          `select message_id from {schema}.evidence where event = 'ContentConsignment'`,
        );
        for (const { message_id: id } of consigned) if (!consignedAt.has(id)) consignedAt.set(id, now);
        if (consignedAt.size >= messages) return;
        await new Promise((r) => setTimeout(r, 10));
      }
    })();
    const cpu = new CpuWindow(() => pidsByRole(cluster));
    await cpu.start();
    const started = performance.now();
    let next = 0;
    const submitter = async () => {
      while (next < messages && !failure) {
        next++;
        const t0 = performance.now();
        const form = new FormData();
        form.set('metadata', JSON.stringify({ recipient: RECIPIENT.id }));
        form.append('payload', new Blob([payload], { type: 'application/octet-stream' }), 'p.bin');
        const { id } = await api<{ id: string }>(cluster.c2Url, SENDER.key, '/api/v1/messages', {
          method: 'POST',
          body: form,
        });
        submittedAt.set(id, t0);
        if (!relayedAt.has(id)) await new Promise<void>((done) => waiting.set(id, done));
        waiting.delete(id);
      }
    };
    const deadline = setTimeout(() => {
      failure ??= new Error(
        `not finished in 10 minutes: ${relayedAt.size} relayed, ${consignedAt.size} consigned\n${cluster.output()}`,
      );
      for (const done of waiting.values()) done();
      polling = false;
    }, 600_000);
    await Promise.all(Array.from({ length: concurrency }, submitter));
    await observer;
    clearTimeout(deadline);
    polling = false;
    const spent = await cpu.stop();
    if (failure) throw failure;
    const cpuMsPerMessage = [...spent.values()].reduce((a, b) => a + b, 0) / messages;
    const seconds = (Math.max(...consignedAt.values()) - started) / 1000;
    const latencies = (at: Map<string, number>) => [...submittedAt].map(([id, t0]) => at.get(id)! - t0);
    return {
      seconds,
      throughput: messages / seconds,
      relayed: latencies(relayedAt),
      consigned: latencies(consignedAt),
      cpuMsPerMessage,
    };
  } finally {
    await cluster.stop();
  }
}

function printTable(header: string[], rows: string[][]): void {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]) =>
    `| ${cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join(' | ')} |`;
  console.log(line(header));
  console.log(`|${widths.map((w, i) => (i === 0 ? '-'.repeat(w + 2) : `${'-'.repeat(w + 1)}:`)).join('|')}|`);
  for (const row of rows) console.log(line(row));
}
