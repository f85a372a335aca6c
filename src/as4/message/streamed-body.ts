import { createHash, randomUUID } from 'node:crypto';
import { createReadStream, createWriteStream, readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Transform, type Readable, type TransformCallback } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { QerdsError } from '../../core/index.js';
import type { Attachment, StreamedBody } from '../model/types.js';

/** A file's octets as a StreamedBody (read afresh by every `open`). */
export function fileBody(path: string, size: number, sha256?: Buffer): StreamedBody {
  return {
    size,
    path,
    open: () => createReadStream(path, { highWaterMark: 1024 * 1024 }),
    ...(sha256 ? { sha256 } : {}),
  };
}

/**
 * An Attachment whose octets stay in `source` (a file, a blob). Streaming-aware code reads `stream`; `body`
 * loads the whole file on first use, for the small consumers (an evidence XML) that want a Buffer, and
 * fails for a source that is not a file.
 */
export function streamedAttachment(contentId: string, contentType: string, source: StreamedBody): Attachment {
  let loaded: Buffer | undefined;
  return {
    contentId,
    contentType,
    stream: source,
    get body(): Buffer {
      if (!source.path)
        throw new QerdsError('AS4_STREAMED_BODY', `attachment ${contentId} is streamed: read it with open()`);
      return (loaded ??= readFileSync(source.path));
    },
  };
}

/** Counts and hashes (SHA-256) what passes; fails once more than `maxBytes` passed, before it is written. */
export class HashMeter extends Transform {
  readonly hash = createHash('sha256');
  size = 0;

  constructor(
    private readonly maxBytes = Number.POSITIVE_INFINITY,
    private readonly tooLarge?: () => Error,
  ) {
    super();
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    this.size += chunk.length;
    if (this.size > this.maxBytes)
      return callback(this.tooLarge?.() ?? new Error(`more than ${this.maxBytes} bytes`));
    this.hash.update(chunk);
    callback(null, chunk);
  }
}

/**
 * Writes `source` through `transforms` into a new file of `dir`, hashing the result as it goes. A failure
 * removes the file: nothing half-written is ever handed out.
 */
export async function spoolToFile(
  source: Readable,
  dir: string,
  transforms: readonly NodeJS.ReadWriteStream[] = [],
  limit?: { maxBytes: number; error: () => Error },
): Promise<StreamedBody> {
  const path = join(dir, randomUUID());
  const meter = new HashMeter(limit?.maxBytes, limit?.error);
  try {
    await pipeline([source, ...transforms, meter, createWriteStream(path, { mode: 0o600, flags: 'wx' })]);
  } catch (error) {
    await rm(path, { force: true });
    throw error;
  }
  return fileBody(path, meter.size, meter.hash.digest());
}

/** All of a stream's octets (for the small parts that must be in memory, such as XML to canonicalize). */
export async function readAll(source: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of source) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

/** A directory for spool files, or the function that creates it on first use (none made for small messages). */
export type SpoolDir = string | (() => Promise<string>);

export const spoolDirectory = (dir: SpoolDir): Promise<string> =>
  typeof dir === 'string' ? Promise.resolve(dir) : dir();

/**
 * A private scratch directory (0700) under `parent`, made on the first call of `dir` (a message whose parts all
 * stay in memory makes none), and the function that removes it with its files.
 */
export function scratchDirectory(parent = tmpdir()): {
  dir: () => Promise<string>;
  remove: () => Promise<void>;
} {
  let made: Promise<string> | undefined;
  return {
    dir: () => (made ??= mkdtemp(join(parent, 'qerds-as4-'))),
    remove: async () => {
      if (made) await rm(await made, { recursive: true, force: true });
    },
  };
}
