import { createHash, randomBytes } from 'node:crypto';
import { createWriteStream, openAsBlob, readFileSync } from 'node:fs';
import { once } from 'node:events';
import { Readable } from 'node:stream';
import { api, RECIPIENT, SENDER } from '../../src/harness/two-access-points.js';
import type { ApCluster } from './ap-cluster.js';
import { waitFor } from './wait.js';

const MiB = 1024 * 1024;

/** Writes `bytes` random octets to `path` (1 MiB at a time, so the test process stays small); returns their SHA-256 (hex). */
export async function writeRandomFile(path: string, bytes: number): Promise<string> {
  const hash = createHash('sha256');
  const out = createWriteStream(path);
  for (let left = bytes; left > 0; left -= MiB) {
    const chunk = randomBytes(Math.min(MiB, left));
    hash.update(chunk);
    if (!out.write(chunk)) await once(out, 'drain');
  }
  out.end();
  await once(out, 'finish');
  return hash.digest('hex');
}

/** Peak resident set size (VmHWM of /proc/<pid>/status) of a process, in bytes. */
export function peakRssBytes(pid: number): number {
  const kib = /^VmHWM:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1];
  if (!kib) throw new Error(`no VmHWM for process ${pid}`);
  return Number(kib) * 1024;
}

export interface LargeTransfer {
  /** SHA-256 (hex) of what C4 downloaded from C3. */
  readonly downloadedSha256: string;
  readonly downloadedBytes: number;
  /** Seconds from the submission (C1 → C2) until C3 holds the message. */
  readonly relaySeconds: number;
  /** Seconds of the whole round: upload, relay, download. */
  readonly totalSeconds: number;
}

/**
 * C1 uploads `file` to C2 (REST multipart, streamed from disk), C2 relays it over AS4 to C3, C4 downloads it
 * from C3's inbox; the download is hashed as it arrives (never held in this process either).
 */
export async function sendThroughCluster(
  cluster: ApCluster,
  file: string,
  timeoutMs: number,
): Promise<LargeTransfer> {
  const t0 = performance.now();
  const form = new FormData();
  form.set('metadata', JSON.stringify({ recipient: RECIPIENT.id, subject: 'large payload' }));
  form.append('payload', await openAsBlob(file, { type: 'application/octet-stream' }), 'large.bin');
  const submitted = await fetch(`${cluster.c2Url}/api/v1/messages`, {
    method: 'POST',
    headers: { authorization: `Bearer ${SENDER.key}` },
    body: form,
  });
  if (submitted.status !== 201)
    throw new Error(`submission answered ${submitted.status}: ${await submitted.text()}`);
  const inbox = await waitFor(
    async () => {
      const list = await api<{ id: string; parts: { partId: string }[] }[]>(
        cluster.c3Url,
        RECIPIENT.key,
        '/api/v1/inbox',
      );
      return list.length > 0 ? list[0] : undefined;
    },
    { timeoutMs, what: 'the message in C3 inbox' },
  );
  const relaySeconds = (performance.now() - t0) / 1000;
  const part = inbox.parts[0]!;
  const download = await fetch(
    `${cluster.c3Url}/api/v1/inbox/${inbox.id}/parts/${encodeURIComponent(part.partId)}`,
    { headers: { authorization: `Bearer ${RECIPIENT.key}` } },
  );
  if (download.status !== 200 || !download.body) throw new Error(`download answered ${download.status}`);
  const hash = createHash('sha256');
  let downloadedBytes = 0;
  for await (const chunk of Readable.fromWeb(
    download.body as import('node:stream/web').ReadableStream<Uint8Array>,
  )) {
    hash.update(chunk as Buffer);
    downloadedBytes += (chunk as Buffer).length;
  }
  return {
    downloadedSha256: hash.digest('hex'),
    downloadedBytes,
    relaySeconds,
    totalSeconds: (performance.now() - t0) / 1000,
  };
}
