import { createHash, randomUUID } from 'node:crypto';
import { createReadStream, createWriteStream, existsSync } from 'node:fs';
import { mkdir, rename, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Transform, type TransformCallback } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { QerdsError } from '../core/index.js';
import type { BlobStore } from './types.js';

const sha256Pattern = /^[0-9a-f]{64}$/;

/**
 * Payload bytes on the file system, content-addressed: `<dir>/<first two hex>/<sha256>`. A put streams
 * into a temporary file in `dir` while hashing, then renames it into place (same file system, so the
 * rename is atomic): a reader never sees a half-written blob, and the same content stored twice is
 * one file.
 */
export function createFileBlobStore(dir: string): BlobStore {
  // Payloads are confidential (REQ2): only the AP's own user may read them.
  const dirMode = 0o700;
  const fileMode = 0o600;
  let ready: Promise<unknown> | undefined;
  const ensureDir = () => (ready ??= mkdir(dir, { recursive: true, mode: dirMode }));

  const pathOf = (sha256: string) => join(dir, sha256.slice(0, 2), sha256);

  /** The key is used as a path: anything but 64 hex digits could walk out of `dir` (`../`). */
  const checkKey = (sha256: string) => {
    if (!sha256Pattern.test(sha256)) throw new QerdsError('NOT_FOUND', 'blob key must be a lower-case hex SHA-256');
  };

  /**
   * Bytes already in memory: hashed first, so content already stored costs no disk write at all, and
   * new content is written in one call (no stream pipeline). Same temp-then-rename as a stream.
   */
  const putBuffer = async (bytes: Buffer) => {
    const sha256 = createHash('sha256').update(bytes).digest('hex');
    const target = pathOf(sha256);
    if (existsSync(target)) return { sha256, size: bytes.length };
    await mkdir(join(dir, sha256.slice(0, 2)), { recursive: true, mode: dirMode });
    const temp = join(dir, `.tmp-${randomUUID()}`);
    try {
      await writeFile(temp, bytes, { mode: fileMode, flag: 'wx' });
      await rename(temp, target);
      return { sha256, size: bytes.length };
    } catch (error) {
      await rm(temp, { force: true });
      throw error;
    }
  };

  return {
    async put(source, options = {}) {
      const maxBytes = options.maxBytes ?? Number.POSITIVE_INFINITY;
      if (Buffer.isBuffer(source) && source.length > maxBytes) throw tooLarge(maxBytes);
      await ensureDir();
      if (Buffer.isBuffer(source)) return putBuffer(source);
      const temp = join(dir, `.tmp-${randomUUID()}`);
      const meter = new DigestMeter(maxBytes);
      try {
        await pipeline(source, meter, createWriteStream(temp, { mode: fileMode, flags: 'wx' }));
        const sha256 = meter.hash.digest('hex');
        const target = pathOf(sha256);
        await mkdir(join(dir, sha256.slice(0, 2)), { recursive: true, mode: dirMode });
        if (existsSync(target)) await rm(temp, { force: true });
        else await rename(temp, target);
        return { sha256, size: meter.size };
      } catch (error) {
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
  };
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
