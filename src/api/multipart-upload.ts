import { Transform } from 'node:stream';
import busboy from 'busboy';
import type { Request } from 'express';
import { QerdsError, type PayloadPart } from '../core/index.js';
import type { BlobStore, StoredBlob } from '../store/types.js';

export interface Upload {
  readonly fields: Readonly<Record<string, string>>;
  readonly parts: PayloadPart[];
  /**
   * Removes the blobs this upload created: the caller refuses the submission before anything references
   * them (threat: a client filling the disk with refused uploads). Never call it once a message names them.
   */
  discard(): Promise<void>;
}

/** Limits of one submission's multipart body, besides the bytes of its files (`maxBytes`). */
export const UPLOAD_LIMITS = Object.freeze({
  /** Payload files. */
  files: 20,
  /** Text fields (only `metadata` is read). */
  fields: 20,
  /** Bytes of one text field's value. */
  fieldSize: 64 * 1024,
});

/**
 * Reads a multipart/form-data submission: text fields, and file parts streamed straight into the blob
 * store (hashed on the way), never held whole in memory. `maxBytes` bounds the files of one request
 * together, enforced while the bytes arrive. A limit is never a silent cut: more files, fields or bytes
 * than allowed refuse the whole upload (413 naming the limit).
 *
 * The first failure settles the upload: blob writes in flight are aborted (their temporary files removed),
 * blobs already stored for this request are discarded, the rest of the body is drained, and only then is
 * the promise rejected. Every stream's 'error' is handled: an unhandled one (busboy's file stream on a
 * truncated form) ends the process, so one request would take the AP down.
 */
export function readUpload(req: Request, blobs: BlobStore, maxBytes: number): Promise<Upload> {
  return new Promise((resolve, reject) => {
    let parser: busboy.Busboy;
    try {
      parser = busboy({
        headers: req.headers,
        limits: {
          files: UPLOAD_LIMITS.files,
          fields: UPLOAD_LIMITS.fields,
          fieldSize: UPLOAD_LIMITS.fieldSize,
        },
      });
    } catch (cause) {
      return reject(
        new QerdsError(
          'BAD_REQUEST',
          'expected multipart/form-data with a metadata field and payload files',
          { cause },
        ),
      );
    }
    const fields: Record<string, string> = {};
    const pending: Promise<StoredBlob>[] = [];
    const inFlight = new Set<Transform>();
    const parts: PayloadPart[] = [];
    let index = 0;
    let received = 0;
    let failed = false;
    let done = false;

    const discardAll = async (stored: readonly StoredBlob[]) => {
      for (const blob of stored) await blob.discard?.().catch(() => undefined);
    };
    const fail = (error: unknown) => {
      if (failed || done) return;
      failed = true;
      req.unpipe(parser);
      parser.removeAllListeners('field').removeAllListeners('file');
      parser.destroy();
      req.resume();
      const abort = error instanceof Error ? error : new Error(String(error));
      for (const counter of inFlight) counter.destroy(abort);
      void Promise.allSettled(pending)
        .then((settled) => discardAll(settled.flatMap((s) => (s.status === 'fulfilled' ? [s.value] : []))))
        .then(() => reject(error));
    };

    parser.on('field', (name, value, info) => {
      // (busboy bounds multipart field names by its header size limit, never by truncating them.)
      if (info.valueTruncated)
        return fail(
          limitError(
            'fieldSize',
            `field "${name}" is longer than ${UPLOAD_LIMITS.fieldSize} bytes`,
            UPLOAD_LIMITS.fieldSize,
          ),
        );
      // Threat: a second metadata field silently replacing the first (what was checked is not what is used).
      if (Object.hasOwn(fields, name))
        return fail(new QerdsError('BAD_REQUEST', `field "${name}" is given more than once`));
      fields[name] = value;
    });
    parser.on('file', (_name, stream, info) => {
      // A file stream's 'error' must always have a listener (see above); after a failure its bytes are dropped.
      if (failed) return void stream.on('error', () => undefined).resume();
      const partId = `part-${++index}`;
      // Counts the bytes of all files together; a Transform (not a 'data' listener) so that no chunk flows
      // before the blob store reads it.
      const counter = new Transform({
        transform(chunk: Buffer, _encoding, next) {
          received += chunk.length;
          if (received > maxBytes)
            return next(
              limitError('maxBytes', `the payload files exceed ${maxBytes} bytes together`, maxBytes),
            );
          next(null, chunk);
        },
      });
      // The blob store attaches its listeners only after an await: an error before that must not be unhandled
      // (the store's pipeline still sees the stream as errored).
      counter.on('error', () => undefined);
      inFlight.add(counter);
      // pipe() does not pass the source's errors on: a truncated part must fail the blob write (which then
      // removes its temporary file) instead of leaving it waiting for bytes that never come.
      stream.on('error', (cause) =>
        counter.destroy(
          new QerdsError('BAD_REQUEST', 'malformed multipart body: a file part ended early', { cause }),
        ),
      );
      stream.pipe(counter);
      const part = blobs.put(counter, { maxBytes });
      pending.push(part);
      part.then(
        (stored) => {
          inFlight.delete(counter);
          parts.push({
            partId,
            contentType: info.mimeType || 'application/octet-stream',
            filename: info.filename || undefined,
            sha256: stored.sha256,
            size: stored.size,
          });
        },
        (error: unknown) => {
          inFlight.delete(counter);
          stream.resume();
          fail(error);
        },
      );
    });
    // Threat: a silent cut. busboy stops emitting past a limit; going over must refuse the upload instead.
    parser.on('filesLimit', () =>
      fail(limitError('files', `more than ${UPLOAD_LIMITS.files} payload files`, UPLOAD_LIMITS.files)),
    );
    parser.on('fieldsLimit', () =>
      fail(limitError('fields', `more than ${UPLOAD_LIMITS.fields} fields`, UPLOAD_LIMITS.fields)),
    );
    parser.on('partsLimit', () => fail(limitError('parts', 'too many parts')));
    parser.on('error', (cause) => fail(new QerdsError('BAD_REQUEST', 'malformed multipart body', { cause })));
    parser.on('close', () => {
      if (failed) return;
      void Promise.allSettled(pending).then((settled) => {
        if (failed) return;
        const rejected = settled.find((s) => s.status === 'rejected');
        if (rejected) return fail(rejected.reason);
        done = true;
        const stored = settled.map((s) => (s as PromiseFulfilledResult<StoredBlob>).value);
        // Parts in the order of the body, whatever order their writes finished in.
        parts.sort((a, b) => Number(a.partId.slice(5)) - Number(b.partId.slice(5)));
        resolve({ fields, parts, discard: () => discardAll(stored) });
      });
    });
    // The client went away (or the connection broke) before the body ended: nothing of it is kept.
    req.on('error', (cause) =>
      fail(new QerdsError('BAD_REQUEST', 'the request body was interrupted', { cause })),
    );
    req.on('close', () => {
      if (!req.complete) fail(new QerdsError('BAD_REQUEST', 'the request body was interrupted'));
    });
    req.pipe(parser);
  });
}

function limitError(limit: string, message: string, max?: number): QerdsError {
  return new QerdsError('PAYLOAD_TOO_LARGE', message, {
    details: { limit, ...(max === undefined ? {} : { max }) },
  });
}
