import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startApCluster, type ApCluster } from '../helpers/ap-cluster.js';
import { peakRssBytes, sendThroughCluster, writeRandomFile } from '../helpers/large-payload.js';
import { devTestPki } from '../helpers/pki.js';

const MiB = 1024 * 1024;
const PAYLOAD_BYTES = 256 * MiB;
/**
 * An AP that held the payload whole would grow by at least its size (a buffering version measured 100 MiB → 791 MiB peak). Streaming,
 * each grows by buffers and garbage that V8 collects when it likes: measured 30–110 MiB over the idle peak, varying
 * from run to run with GC timing. The bound sits between the two, well clear of both.
 */
const GROWTH_LIMIT_BYTES = 0.75 * PAYLOAD_BYTES;

/**
 * Large payloads: 256 MiB from C1 through two real AP processes (REST upload → C2 store → AS4 with
 * GZIP, RSA-SHA256 signature, AES-128-GCM encryption → C3 store → C4 download). The bytes C4 gets must be the
 * bytes C1 sent, and neither AP may grow to the payload's size: each stays under 300 MB peak RSS (VmHWM),
 * which only holds when every stage streams. Not a timing test; the timeout is generous for a loaded machine.
 */
describe('a 256 MiB payload through C1 → C2 → C3 → C4', () => {
  const work = mkdtempSync(join(tmpdir(), 'qerds-large-'));
  let cluster: ApCluster;

  beforeAll(async () => {
    const pkiDir = join(work, 'pki');
    await devTestPki(pkiDir);
    cluster = await startApCluster({
      kind: 'embedded',
      work,
      pkiDir,
      configOverrides: {
        limits: { maxPayloadBytes: 2 * PAYLOAD_BYTES },
        as4: { maxDecompressedBytes: 2 * PAYLOAD_BYTES },
        relay: { timeoutMs: 900_000 },
      },
    });
  }, 120_000);

  afterAll(async () => {
    await cluster?.stop();
    rmSync(work, { recursive: true, force: true });
  });

  it("arrives byte for byte; neither AP's peak RSS grows by ¾ of the payload (it is never held whole)", async () => {
    const idle = { c2: peakRssBytes(cluster.pid('c2')!), c3: peakRssBytes(cluster.pid('c3')!) };
    console.log(
      `peak RSS after start: C2 ${(idle.c2 / MiB).toFixed(0)} MiB, C3 ${(idle.c3 / MiB).toFixed(0)} MiB`,
    );
    const file = join(work, 'payload.bin');
    const sent = await writeRandomFile(file, PAYLOAD_BYTES);
    const transfer = await sendThroughCluster(cluster, file, 900_000);
    expect(transfer.downloadedBytes).toBe(PAYLOAD_BYTES);
    expect(transfer.downloadedSha256).toBe(sent);
    const rss = { c2: peakRssBytes(cluster.pid('c2')!), c3: peakRssBytes(cluster.pid('c3')!) };
    console.log(
      `256 MiB: relayed in ${transfer.relaySeconds.toFixed(1)} s, round trip ${transfer.totalSeconds.toFixed(1)} s; peak RSS C2 ${(rss.c2 / MiB).toFixed(0)} MiB, C3 ${(rss.c3 / MiB).toFixed(0)} MiB`,
    );
    expect(rss.c2 - idle.c2).toBeLessThan(GROWTH_LIMIT_BYTES);
    expect(rss.c3 - idle.c3).toBeLessThan(GROWTH_LIMIT_BYTES);
  }, 1_200_000);
});
