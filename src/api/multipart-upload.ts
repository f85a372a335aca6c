import { Transform } from 'node:stream';
import busboy from 'busboy';
import type { Request } from 'express';
import { QerdsError, type PayloadPart } from '../core/index.js';
import type { BlobStore } from '../store/types.js';

export interface Upload {
  readonly fields: Readonly<Record<string, string>>;
  readonly parts: PayloadPart[];
}

/**
 * Reads a multipart/form-data submission: text fields, and file parts streamed straight into the blob
 * store (hashed on the way), never held whole in memory. `maxBytes` bounds the files of one request
 * together, enforced while the bytes arrive. The first failure settles the upload at once; the rest of
 * the body is drained and discarded, and every blob write's rejection is handled (an unhandled one would
 * end the process: one oversized upload must not take the AP down).
 */
export function readUpload(req: Request, blobs: BlobStore, maxBytes: number): Promise<Upload> {
  return new Promise((resolve, reject) => {
    let parser: busboy.Busboy;
    try {
      parser = busboy({ headers: req.headers, limits: { files: 20, fields: 20, fieldSize: 64 * 1024 } });
    } catch (cause) {
      return reject(new QerdsError('BAD_REQUEST', 'expected multipart/form-data with a metadata field and payload files', { cause }));
    }
    const fields: Record<string, string> = {};
    const pending: Promise<PayloadPart>[] = [];
    let index = 0;
    let received = 0;
    let failed = false;
    const fail = (error: unknown) => {
      if (failed) return;
      failed = true;
      req.unpipe(parser);
      req.resume();
      reject(error);
    };
    parser.on('field', (name, value) => (fields[name] = value));
    parser.on('file', (_name, stream, info) => {
      if (failed) return void stream.resume();
      const partId = `part-${++index}`;
      // Counts the bytes of all files together; a Transform (not a 'data' listener) so that no chunk flows
      // before the blob store reads it.
      const counted = stream.pipe(
        new Transform({
          transform(chunk: Buffer, _encoding, done) {
            received += chunk.length;
            if (received > maxBytes) return done(new QerdsError('PAYLOAD_TOO_LARGE', `the payload files exceed ${maxBytes} bytes together`));
            done(null, chunk);
          },
        }),
      );
      counted.on('error', () => stream.resume());
      const part = blobs.put(counted, { maxBytes }).then(({ sha256, size }) => ({
        partId,
        contentType: info.mimeType || 'application/octet-stream',
        filename: info.filename || undefined,
        sha256,
        size,
      }));
      part.catch(fail);
      pending.push(part);
    });
    parser.on('error', (cause) => fail(new QerdsError('BAD_REQUEST', 'malformed multipart body', { cause })));
    parser.on('close', () => {
      if (!failed) Promise.all(pending).then((parts) => resolve({ fields, parts }), fail);
    });
    req.pipe(parser);
  });
}
