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
 * store (hashed on the way, the size limit enforced mid-stream), never held whole in memory.
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
    parser.on('field', (name, value) => (fields[name] = value));
    parser.on('file', (_name, stream, info) => {
      const partId = `part-${++index}`;
      pending.push(
        blobs.put(stream, { maxBytes }).then(({ sha256, size }) => ({
          partId,
          contentType: info.mimeType || 'application/octet-stream',
          filename: info.filename || undefined,
          sha256,
          size,
        })),
      );
    });
    parser.on('error', (cause) => reject(new QerdsError('BAD_REQUEST', 'malformed multipart body', { cause })));
    parser.on('close', () => {
      Promise.all(pending).then((parts) => resolve({ fields, parts }), reject);
    });
    req.pipe(parser);
  });
}
