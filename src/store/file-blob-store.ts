import { createHash, randomUUID } from 'node:crypto';
import { createReadStream, createWriteStream, existsSync, type Dirent, type WriteStream } from 'node:fs';
import { link, mkdir, open, readdir, rename, rm, stat, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Transform, type TransformCallback } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { QerdsError } from '../core/index.js';
import type { BlobStore, BlobSweepOptions } from './types.js';

const sha256Pattern = /^[0-9a-f]{64}$/;

/**
 * Payload bytes on the file system, content-addressed: `<dir>/<first two hex>/<sha256>`. A put streams
 * into a temporary file in `dir` while hashing, then moves it into place (same file system, so the move is
 * atomic): a reader never sees a half-written blob, and the same content stored twice is one file.
 *
 * Placing a blob: `link(temp, target)` when no file is there (exclusive: of two puts of one content only
 * one creates it), else `rename(temp, target)` over the existing file. Either way the file at `target` is
 * then a fresh inode written just now, so (1) the orphan sweep's grace period on mtime restarts with every
 * put of the content, and (2) `discard` of an earlier put sees another inode and keeps the file that a
 * later put's owner may reference.
 */
export function createFileBlobStore(dir: string): BlobStore {
  // Payloads are confidential (REQ2): only the AP's own user may read them.
  const dirMode = 0o700;
  const fileMode = 0o600;
  let ready: Promise<unknown> | undefined;
  const ensureDir = () => (ready ??= mkdir(dir, { recursive: true, mode: dirMode }));

  const pathOf = (sha256: string) => join(dir, sha256.slice(0, 2), sha256);

  /**
   * Shard directories this store made or found: a put into a known shard skips its mkdir (file system calls
   * are a good part of a small put). A shard removed behind the store's back is made again (see `place`).
   */
  const shards = new Set<string>();
  const ensureShard = async (shard: string) => {
    if (shards.has(shard)) return;
    const made = await mkdir(join(dir, shard), { recursive: true, mode: dirMode });
    // A new shard's own entry in `dir` must be on disk before a file in it can be.
    if (made !== undefined) await syncDirectory(dir);
    shards.add(shard);
  };

  /** The key is used as a path: anything but 64 hex digits could walk out of `dir` (`../`). */
  const checkKey = (sha256: string) => {
    if (!sha256Pattern.test(sha256))
      throw new QerdsError('NOT_FOUND', 'blob key must be a lower-case hex SHA-256');
  };

  /**
   * Removes `target` only if it is still the inode `ino`. The file is first moved aside (atomic: whatever
   * inode is there at that instant), then checked: another inode (a put of the same content since) is put
   * back; so no put that lands between the check and the removal can lose its file.
   */
  const removeIfSame = async (
    target: string,
    keep: (aside: { ino: number; mtimeMs: number }) => boolean,
  ): Promise<boolean> => {
    const aside = join(dir, `.aside-${randomUUID()}`);
    try {
      await rename(target, aside);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return false;
      throw error;
    }
    const moved = await stat(aside);
    if (keep(moved)) {
      // A put that created the content again meanwhile already placed an equal file (EEXIST): keep that one.
      await link(aside, target).catch((error: NodeJS.ErrnoException) => {
        if (error.code !== 'EEXIST') throw error;
      });
      await rm(aside, { force: true });
      return false;
    }
    await rm(aside, { force: true });
    return true;
  };

  /**
   * Moves a finished temporary file into place under its digest. New content is linked in, and the put can
   * be discarded (only while the file is still this inode). Content already stored is replaced by the new file
   * (a fresh inode and time), so that neither the orphan sweep nor the discard of an earlier put can take it
   * from this one.
   */
  const place = async (temp: string, sha256: string, size: number) => {
    const target = pathOf(sha256);
    const shard = sha256.slice(0, 2);
    await ensureShard(shard);
    const { ino } = await stat(temp);
    const linkOrReplace = async (): Promise<boolean> => {
      try {
        await link(temp, target);
        return true;
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
        await rename(temp, target);
        return false;
      }
    };
    let linked: boolean;
    try {
      linked = await linkOrReplace();
    } catch (error) {
      // The shard directory went away since this store last saw it (an operator's cleanup): make it again.
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
      shards.delete(shard);
      await ensureShard(shard);
      linked = await linkOrReplace();
    }
    if (!linked) return { sha256, size, inline: false };
    // The caller commits a row naming this blob next: the new name must survive a power cut as the bytes do.
    await syncDirectory(join(dir, shard));
    // The temporary name of a file now also at `target`: one unlink (rm would lstat it first).
    await unlink(temp).catch((error: NodeJS.ErrnoException) => {
      if (error.code !== 'ENOENT') throw error;
    });
    return {
      sha256,
      size,
      inline: false,
      discard: async () => void (await removeIfSame(target, (aside) => aside.ino !== ino)),
    };
  };

  return {
    async put(source, options = {}) {
      const maxBytes = options.maxBytes ?? Number.POSITIVE_INFINITY;
      if (Buffer.isBuffer(source) && source.length > maxBytes) throw tooLarge(maxBytes);
      await ensureDir();
      const temp = join(dir, `.tmp-${randomUUID()}`);
      let file: WriteStream | undefined;
      try {
        // Bytes already in memory: one write call, no stream pipeline.
        if (Buffer.isBuffer(source)) {
          // flush: the bytes reach the disk before the blob is placed (and before its row is committed).
          await writeFile(temp, source, { mode: fileMode, flag: 'wx', flush: true });
          return await place(temp, createHash('sha256').update(source).digest('hex'), source.length);
        }
        const meter = new DigestMeter(maxBytes);
        file = createWriteStream(temp, { mode: fileMode, flags: 'wx', flush: true });
        await pipeline(source, meter, file);
        return await place(temp, meter.hash.digest('hex'), meter.size);
      } catch (error) {
        // A write stream destroyed before its (asynchronous) open completed still creates the file when the
        // open lands, and pipeline() may reject before that: removing the file first would leave it behind.
        if (file) await closed(file);
        await rm(temp, { force: true });
        throw error;
      }
    },

    get(sha256) {
      checkKey(sha256);
      const path = pathOf(sha256);
      if (!existsSync(path)) throw new QerdsError('NOT_FOUND', `blob ${sha256} not found`);
      return createReadStream(path);
    },

    async has(sha256) {
      if (!sha256Pattern.test(sha256)) return false;
      try {
        return (await stat(pathOf(sha256))).isFile();
      } catch {
        return false;
      }
    },

    async sweep(options) {
      return { removed: await sweepDir(dir, options, removeIfSame) };
    },
  };
}

/** Candidate keys per call of `referenced`: bounds the sweep's memory (a key is ~100 bytes in a Set). */
const SWEEP_BATCH = 50_000;

/**
 * The orphan sweep: temporary and set-aside files older than the grace period (a crash mid-put), then the
 * blobs older than it that `referenced` does not name, in batches. A blob put again since it was listed
 * is a fresh inode with a fresh mtime: removeIfSame puts it back.
 */
/** Resolves once the write stream's file descriptor is closed (or was never opened); never rejects. */
function closed(file: WriteStream): Promise<void> {
  if (file.closed) return Promise.resolve();
  return new Promise((resolve) => file.once('close', () => resolve()));
}

/**
 * fsync of a directory: makes the names created in it durable. A store's row that names a blob is committed
 * (with its own fsync) right after the put, so without this a power cut could leave a row whose blob never
 * reached the disk: a message lost after it was acknowledged.
 */
async function syncDirectory(path: string): Promise<void> {
  const handle = await open(path, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

async function sweepDir(
  dir: string,
  options: BlobSweepOptions,
  removeIfSame: (
    target: string,
    keep: (aside: { ino: number; mtimeMs: number }) => boolean,
  ) => Promise<boolean>,
): Promise<number> {
  const cutoff = options.olderThan.getTime();
  const old = async (path: string) => {
    try {
      return (await stat(path)).mtimeMs < cutoff;
    } catch {
      return false;
    }
  };
  let removed = 0;
  let entries: Dirent[];
  try {
    entries = await readdir(dir, { withFileTypes: true });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return 0;
    throw error;
  }
  for (const entry of entries) {
    if (entry.isFile() && /^\.(tmp|aside)-/.test(entry.name) && (await old(join(dir, entry.name)))) {
      await rm(join(dir, entry.name), { force: true });
      removed++;
    }
  }
  let batch = new Set<string>();
  const flush = async () => {
    if (batch.size === 0) return;
    const referenced = await options.referenced(batch);
    for (const sha256 of batch) {
      if (referenced.has(sha256)) continue;
      if (await removeIfSame(join(dir, sha256.slice(0, 2), sha256), (aside) => aside.mtimeMs >= cutoff))
        removed++;
    }
    batch = new Set();
  };
  for (const shard of entries) {
    if (!shard.isDirectory() || !/^[0-9a-f]{2}$/.test(shard.name)) continue;
    for (const name of await readdir(join(dir, shard.name))) {
      if (!sha256Pattern.test(name) || !name.startsWith(shard.name)) continue;
      if (!(await old(join(dir, shard.name, name)))) continue;
      batch.add(name);
      if (batch.size >= SWEEP_BATCH) await flush();
    }
  }
  await flush();
  return removed;
}

/** Hashes and counts the bytes passing through; fails the stream as soon as `maxBytes` is exceeded. */
class DigestMeter extends Transform {
  readonly hash = createHash('sha256');
  size = 0;

  constructor(private readonly maxBytes: number) {
    super();
  }

  override _transform(chunk: Buffer | string, _encoding: BufferEncoding, callback: TransformCallback): void {
    const bytes = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
    this.size += bytes.length;
    // Refuse while the bytes arrive, before they reach the disk: a client must not be able to fill
    // the volume by sending more than the limit.
    if (this.size > this.maxBytes) return callback(tooLarge(this.maxBytes));
    this.hash.update(bytes);
    callback(null, bytes);
  }
}

function tooLarge(maxBytes: number): QerdsError {
  return new QerdsError('PAYLOAD_TOO_LARGE', `payload exceeds ${maxBytes} bytes`, { details: { maxBytes } });
}
