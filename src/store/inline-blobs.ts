import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import { QerdsError } from '../core/index.js';
import type { BlobStore, BlobSweepOptions, StoredBlob } from './types.js';

/** Default largest blob held in the database rather than in a file (store.inlineBlobMaxBytes). */
export const DEFAULT_INLINE_BLOB_MAX_BYTES = 64 * 1024;

/**
 * Most bytes of small blobs held in memory at once, put but not yet written with a message. Past it a small blob is
 * a file, as a large one is: memory stays bounded whatever the number of uploads in flight, or left behind by
 * requests that neither stored nor discarded their blobs.
 */
const HELD_MAX_BYTES = 64 * 1024 * 1024;

const sha256Pattern = /^[0-9a-f]{64}$/;

/** The bytes of one small blob between its put and the commit of a message naming it. */
interface Held {
  readonly bytes: Buffer;
  /** Puts of this content not yet discarded (each discard undoes one). */
  puts: number;
  /** Date.now() of the last put: the orphan sweep's grace period counts from it, as from a file's mtime. */
  at: number;
}

export interface InlineBlobsOptions {
  /** Where larger blobs go (and blobs put before the database held any). */
  readonly files: BlobStore;
  /** Largest blob held in the database, in bytes; 0: every blob is a file. */
  readonly maxBytes: number;
  /** The bytes of a blob the database holds (its row's content), or undefined. */
  readonly content: (sha256: string) => Promise<Buffer | undefined>;
}

/** The store's blob store and the hooks its transactions use to write small blobs with their message. */
export interface InlineBlobs {
  readonly blobs: BlobStore & Required<Pick<BlobStore, 'sweep'>>;
  /** The bytes of a small blob put and not yet committed, for the row that StoreTransaction.insertMessage writes. */
  held(sha256: string): Buffer | undefined;
  /** A transaction that wrote these blobs' bytes committed: the database holds them now, memory need not. */
  committed(sha256s: Iterable<string>): void;
}

/**
 * Small blobs in the database. A put of at most `maxBytes` writes nothing: the bytes are held here, in memory,
 * and StoreTransaction.insertMessage writes them into the `blobs` row of the first message that names them, in
 * that message's transaction. So a small payload costs no file, no fsync of it, no link or rename and no directory
 * fsync, and it is on disk exactly when the message naming it is (the one commit of both). Until then only this
 * store (this process) sees it; a put no message follows is undone by its discard, or dropped by the orphan sweep
 * once its grace period is over (as its file would be). Larger blobs (or past HELD_MAX_BYTES in memory) are files,
 * as before. Reads look in memory, then in the database, then in the files.
 */
export function createInlineBlobs(options: InlineBlobsOptions): InlineBlobs {
  const { files, maxBytes: inlineMax, content } = options;
  const held = new Map<string, Held>();
  let heldBytes = 0;

  const drop = (sha256: string, entry: Held) => {
    if (held.get(sha256) !== entry) return;
    held.delete(sha256);
    heldBytes -= entry.bytes.length;
  };

  /** Holds `bytes` (at most inlineMax of them) until a message names them; undefined when memory is full. */
  const hold = (bytes: Buffer): StoredBlob | undefined => {
    const sha256 = createHash('sha256').update(bytes).digest('hex');
    let entry = held.get(sha256);
    if (!entry) {
      if (heldBytes + bytes.length > HELD_MAX_BYTES) return undefined;
      // A copy: the caller's buffer may be a view of a much larger one (a whole AS4 message), or be reused.
      entry = { bytes: Buffer.from(bytes), puts: 0, at: 0 };
      held.set(sha256, entry);
      heldBytes += bytes.length;
    }
    entry.puts += 1;
    entry.at = Date.now();
    const mine = entry;
    return {
      sha256,
      size: bytes.length,
      inline: true,
      // Undoes this put only: another put of the same bytes, still waiting for its message, keeps them.
      discard: async () => {
        mine.puts -= 1;
        if (mine.puts <= 0) drop(sha256, mine);
      },
    };
  };

  const blobs: InlineBlobs['blobs'] = {
    async put(source, putOptions = {}) {
      if (inlineMax <= 0) return files.put(source, putOptions);
      const limit = Math.min(inlineMax, putOptions.maxBytes ?? Number.POSITIVE_INFINITY);
      if (Buffer.isBuffer(source)) {
        return (source.length <= limit && hold(source)) || files.put(source, putOptions);
      }
      const head = await readUpTo(source, limit);
      if (head.rest === undefined) {
        const bytes = Buffer.concat(head.chunks);
        return hold(bytes) ?? files.put(bytes, putOptions);
      }
      // Larger than a small blob: a file, from the octets read so far on (the file store enforces maxBytes).
      return files.put(Readable.from(concat(head.chunks, head.rest), { objectMode: false }), putOptions);
    },

    get(sha256) {
      if (!sha256Pattern.test(sha256))
        throw new QerdsError('NOT_FOUND', 'blob key must be a lower-case hex SHA-256');
      const entry = held.get(sha256);
      if (entry) return Readable.from([entry.bytes], { objectMode: false });
      return Readable.from(fromStore(sha256), { objectMode: false });
    },

    async has(sha256) {
      if (!sha256Pattern.test(sha256)) return false;
      if (held.has(sha256) || (await content(sha256)) !== undefined) return true;
      return files.has(sha256);
    },

    async sweep(sweepOptions: BlobSweepOptions) {
      const cutoff = sweepOptions.olderThan.getTime();
      let removed = 0;
      for (const [sha256, entry] of held)
        if (entry.at < cutoff) {
          drop(sha256, entry);
          removed++;
        }
      return { removed: removed + (files.sweep ? (await files.sweep(sweepOptions)).removed : 0) };
    },
  };

  /** The bytes from the database, else the file (NOT_FOUND as the stream's error when neither has them). */
  async function* fromStore(sha256: string): AsyncGenerator<Buffer> {
    const bytes = await content(sha256);
    if (bytes !== undefined) {
      yield bytes;
      return;
    }
    yield* files.get(sha256) as AsyncIterable<Buffer>;
  }

  return {
    blobs,
    held: (sha256) => held.get(sha256)?.bytes,
    committed(sha256s) {
      for (const sha256 of sha256s) {
        const entry = held.get(sha256);
        if (entry) drop(sha256, entry);
      }
    },
  };
}

/**
 * Reads `source` until it ends or has given more than `limit` octets. Ended: all of its chunks. Else the chunks
 * read so far and the iterator of the rest, not yet closed (the caller reads on from where this stopped).
 */
async function readUpTo(
  source: Readable,
  limit: number,
): Promise<{ chunks: Buffer[]; rest?: AsyncIterator<unknown> }> {
  const iterator = source[Symbol.asyncIterator]();
  const chunks: Buffer[] = [];
  let size = 0;
  try {
    for (;;) {
      const next = await iterator.next();
      if (next.done) return { chunks };
      const chunk = toBuffer(next.value);
      chunks.push(chunk);
      size += chunk.length;
      if (size > limit) return { chunks, rest: iterator };
    }
  } catch (error) {
    await iterator.return?.();
    throw error;
  }
}

/** The chunks read already, then the rest of the source; closing early closes the source. */
async function* concat(chunks: readonly Buffer[], rest: AsyncIterator<unknown>): AsyncGenerator<Buffer> {
  try {
    yield* chunks;
    for (;;) {
      const next = await rest.next();
      if (next.done) return;
      yield toBuffer(next.value);
    }
  } finally {
    await rest.return?.();
  }
}

function toBuffer(chunk: unknown): Buffer {
  return typeof chunk === 'string' ? Buffer.from(chunk) : (chunk as Buffer);
}
