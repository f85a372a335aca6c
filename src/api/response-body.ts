import type { ServerResponse } from 'node:http';
import { Writable, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { Logger } from 'pino';

/** How a download's body ended. */
export interface BodyDelivery {
  /** Every byte of the declared Content-Length was taken by the connection. */
  readonly complete: boolean;
  /** Body bytes the connection took (written to the operating system). */
  readonly sent: number;
  /** Why the writing stopped; on a complete body, what came after it (the client closed at once). */
  readonly error?: unknown;
}

/**
 * Writes a download's body and counts what the connection took, so that "handed over" is decided from the
 * bytes sent, never from the order of the close and finish events.
 *
 * Why not `await pipeline(source, res)` and "resolved = delivered": a client has the whole Content-Length
 * body as soon as its last chunk is flushed, while pipeline still waits for the source's end of file (a
 * file stream needs one more read for it) before it ends the response. A client that closes the connection
 * the moment it has the body (no keep-alive) then makes pipeline reject with ERR_STREAM_PREMATURE_CLOSE
 * although nothing was missing: on a loaded machine a complete download was not recorded as handed over.
 * The other way round, a body cut short must never count as delivered.
 *
 * "Taken" means the write to the socket completed (what the response's `finish` means too): HTTP/1.1 has
 * no receipt, so bytes still in the operating system's buffers when a client vanishes count as sent.
 */
export class ResponseBody {
  #sent = 0;

  constructor(private readonly res: ServerResponse) {}

  get sent(): number {
    return this.#sent;
  }

  /** Resolves once the connection took the chunk; rejects when the response closed or failed first. */
  write(chunk: Buffer | string): Promise<void> {
    const res = this.res;
    if (res.destroyed) return Promise.reject(prematureClose());
    const length = Buffer.byteLength(chunk);
    return new Promise((resolve, reject) => {
      // A write in flight when the socket is destroyed may never call back: the close answers it.
      const onClose = () => reject(prematureClose());
      res.once('close', onClose);
      res.write(chunk, (error) => {
        res.off('close', onClose);
        if (error) return reject(error);
        this.#sent += length;
        resolve();
      });
    });
  }

  /**
   * Copies `source` into the body, one chunk taken by the connection before the next is read. Stops (and
   * destroys the source) when the response closes: a client gone is not waited for until the source ends.
   */
  async copy(source: Readable): Promise<void> {
    const sink = new Writable({
      write: (chunk: Buffer, _encoding, callback) => {
        this.write(chunk).then(() => callback(), callback);
      },
    });
    const stop = new AbortController();
    const onClose = () => stop.abort(prematureClose());
    if (this.res.destroyed) onClose();
    else this.res.once('close', onClose);
    try {
      await pipeline(source, sink, { signal: stop.signal });
    } catch (error) {
      throw stop.signal.aborted ? stop.signal.reason : error; // the close, not pipeline's AbortError wrapper
    } finally {
      this.res.off('close', onClose);
    }
  }

  /**
   * Ends the response when `expected` bytes went out and tells whether the body is complete. Short of it
   * (the client left, the source failed or was shorter than its Content-Length) the response is destroyed:
   * the client must see a body cut off, never a short one that looks whole.
   */
  async end(expected: number, error?: unknown): Promise<BodyDelivery> {
    const res = this.res;
    const sent = this.#sent;
    if (sent < expected) {
      if (!res.destroyed) res.destroy();
      return { complete: false, sent, error: error ?? new Error(`${sent} of ${expected} bytes sent`) };
    }
    const after = error === undefined ? {} : { error };
    if (!res.writableEnded && !res.destroyed) res.end();
    if (expected > 0) return { complete: true, sent, ...after };
    // No body byte to count: whole when the headers went out, i.e. the response finished before it closed.
    const finished =
      res.writableFinished ||
      (await new Promise<boolean>((resolve) => {
        res.once('finish', () => resolve(true));
        res.once('close', () => resolve(res.writableFinished));
      }));
    return finished ? { complete: true, sent, ...after } : { complete: false, sent, error: prematureClose() };
  }
}

/** One stored part as the whole body of `res` (the caller set its Content-Length to `size`). */
export async function sendPart(res: ServerResponse, source: Readable, size: number): Promise<BodyDelivery> {
  const body = new ResponseBody(res);
  try {
    await body.copy(source);
  } catch (error) {
    return body.end(size, error);
  }
  return body.end(size);
}

/**
 * Logs how a download ended and tells whether a ContentHandover may be sealed: only for a complete body.
 * A body cut short is a warning (the message stays open for another download), never silent.
 */
export function handedOverWhole(
  log: Logger | undefined,
  delivery: BodyDelivery,
  messageId: string,
  expected: number,
): boolean {
  if (!delivery.complete) {
    log?.warn(
      { err: delivery.error, messageId, sent: delivery.sent, expected },
      'download cut short: content not handed over',
    );
    return false;
  }
  if (delivery.error !== undefined)
    log?.debug(
      { err: delivery.error, messageId },
      'whole body sent; the client closed before the response ended',
    );
  return true;
}

function prematureClose(): Error {
  return Object.assign(new Error('the response closed before the body was sent'), {
    code: 'ERR_STREAM_PREMATURE_CLOSE',
  });
}
