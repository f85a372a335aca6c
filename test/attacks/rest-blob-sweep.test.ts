import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitFor } from '../helpers/wait.js';
import { SENDER, startAttackAp, submitValid, type AttackAp } from './rest-ap.js';
import { accessPointInternals } from '../../src/access-point/internals.js';

/**
 * Disk filled by uploads nobody references: what a crash left in the blob directory (a blob whose
 * message was never inserted, a temporary file of a put cut short) is swept at start and periodically, once
 * older than the grace period; a blob a message names, or one written within the grace period, never is.
 */
const HOUR = 3_600_000;
const sha256 = (bytes: string) => createHash('sha256').update(bytes).digest('hex');
const blobPath = (dir: string, key: string) => join(dir, key.slice(0, 2), key);
const ageBy = (path: string, ms: number) => {
  const then = new Date(Date.now() - ms);
  utimesSync(path, then, then);
};
const writeBlob = (dir: string, content: string, ageMs: number) => {
  const key = sha256(content);
  mkdirSync(join(dir, key.slice(0, 2)), { recursive: true });
  writeFileSync(blobPath(dir, key), content);
  ageBy(blobPath(dir, key), ageMs);
  return key;
};

let target: AttackAp;
const left = { oldOrphan: '', freshOrphan: '', tmp: '' };

beforeAll(async () => {
  target = await startAttackAp('sweep', {}, (dir) => {
    // What a crash left: an orphan from two hours ago, a temporary file of a put cut short, and an orphan
    // written a minute ago (its message may be about to be inserted: within the grace period).
    left.oldOrphan = writeBlob(dir, 'orphan from before the crash', 2 * HOUR);
    left.freshOrphan = writeBlob(dir, 'blob written a minute ago', 60_000);
    left.tmp = join(dir, '.tmp-crashed-put');
    writeFileSync(left.tmp, 'half a payload');
    ageBy(left.tmp, 2 * HOUR);
  });
}, 60_000);
afterAll(async () => {
  await target?.stop();
});

describe('orphan blob sweep', () => {
  it('at start: an old orphan and an old temporary file are removed, a fresh orphan is kept', async () => {
    await waitFor(
      () =>
        !existsSync(blobPath(target.blobDir, left.oldOrphan)) && !existsSync(left.tmp) ? true : undefined,
      { what: 'the start-up sweep' },
    );
    expect(existsSync(blobPath(target.blobDir, left.freshOrphan))).toBe(true);
    expect((await submitValid(target.url)).status).toBe(201);
  });

  it('a blob a message references is kept however old it is', async () => {
    const form = new FormData();
    form.set('metadata', JSON.stringify({ recipient: '0188:9876543210987' }));
    // Larger than store.inlineBlobMaxBytes (64 KiB): a file in the blob directory, which the sweep looks at.
    form.append('payload', new Blob(['referenced content '.repeat(4000)]), 'kept.txt');
    const response = await fetch(`${target.url}/api/v1/messages`, {
      method: 'POST',
      headers: { 'x-api-key': SENDER.key },
      body: form,
    });
    expect(response.status).toBe(201);
    const key = ((await response.json()) as { parts: { sha256: string }[] }).parts[0]!.sha256;
    ageBy(blobPath(target.blobDir, key), 2 * HOUR);
    const orphan = writeBlob(target.blobDir, 'another orphan', 2 * HOUR);
    const { removed } = await accessPointInternals(target.ap).context.store.sweepOrphanBlobs({
      graceMs: HOUR,
    });
    expect(removed).toBe(1);
    expect(existsSync(blobPath(target.blobDir, orphan))).toBe(false);
    expect(await accessPointInternals(target.ap).context.store.blobs.has(key)).toBe(true);
  });

  it('an old orphan that is put again (a new upload of the same bytes) is not swept under it', async () => {
    const key = writeBlob(target.blobDir, 'content uploaded again', 2 * HOUR);
    const stored = await accessPointInternals(target.ap).context.store.blobs.put(
      Buffer.from('content uploaded again'),
    );
    expect(stored.sha256).toBe(key);
    await accessPointInternals(target.ap).context.store.sweepOrphanBlobs({ graceMs: HOUR });
    expect(await accessPointInternals(target.ap).context.store.blobs.has(key)).toBe(true);
  });
});
