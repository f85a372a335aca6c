import { mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { initDevPki } from '../src/pki/index.js';
import { startApCluster } from '../test/helpers/ap-cluster.js';
import { peakRssBytes, sendThroughCluster, writeRandomFile } from '../test/helpers/large-payload.js';

const MiB = 1024 * 1024;

/**
 * One large payload C1 → C2 → C3 → C4 through two real `qerds start` processes (SQLite, in-process queue, the
 * default P-Modes: GZIP, RSA-SHA256, RSA-OAEP + AES-128-GCM), with the peak RSS (VmHWM) of each AP before and
 * after. Size: BENCH_LARGE_BYTES (bytes) @defaultValue 1073741824 (1 GiB). Random payload (incompressible).
 */
export async function benchLarge(): Promise<void> {
  const bytes = Number(process.env.BENCH_LARGE_BYTES ?? 1024 * MiB);
  const work = mkdtempSync(join(tmpdir(), 'qerds-bench-large-'));
  try {
    const pkiDir = join(work, 'pki');
    await initDevPki({ dir: pkiDir });
    const cluster = await startApCluster({
      kind: 'embedded',
      work,
      pkiDir,
      configOverrides: {
        limits: { maxPayloadBytes: 2 * bytes },
        as4: { maxDecompressedBytes: 2 * bytes },
        relay: { timeoutMs: 3_600_000 },
      },
    });
    try {
      const file = join(work, 'payload.bin');
      const sent = await writeRandomFile(file, bytes);
      const idle = { c2: peakRssBytes(cluster.pid('c2')!), c3: peakRssBytes(cluster.pid('c3')!) };
      const transfer = await sendThroughCluster(cluster, file, 3_600_000);
      const peak = { c2: peakRssBytes(cluster.pid('c2')!), c3: peakRssBytes(cluster.pid('c3')!) };
      const intact = transfer.downloadedSha256 === sent && transfer.downloadedBytes === bytes;
      console.log(
        `settings: two qerds processes (SQLite, in-process queue), gzip + RSA-2048 sign + RSA-OAEP/AES-128-GCM, loopback HTTP; load average ${loadavg()
          .map((l) => l.toFixed(1))
          .join(' ')}`,
      );
      console.log(
        `${(bytes / MiB).toFixed(0)} MiB: ${intact ? 'intact at C4 (sha256)' : 'CORRUPTED'}, C1 → C3 ${transfer.relaySeconds.toFixed(1)} s, round trip with download ${transfer.totalSeconds.toFixed(1)} s (${(bytes / MiB / transfer.totalSeconds).toFixed(1)} MiB/s); ` +
          `peak RSS C2 ${(peak.c2 / MiB).toFixed(0)} MiB (idle ${(idle.c2 / MiB).toFixed(0)}), C3 ${(peak.c3 / MiB).toFixed(0)} MiB (idle ${(idle.c3 / MiB).toFixed(0)})`,
      );
      if (!intact) process.exitCode = 1;
    } finally {
      await cluster.stop();
    }
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}
