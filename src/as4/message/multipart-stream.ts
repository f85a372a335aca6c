import { createHash, randomUUID, type Hash } from 'node:crypto';
import { open, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { QerdsError } from '../../core/index.js';
import {
  assembleParts,
  fail,
  multipartBoundary,
  parseHeaders,
  transferDecode,
  type DecodedMultipart,
  type DecodeMultipartLimits,
  type RawPart,
} from './multipart.js';
import { fileBody, spoolDirectory, type SpoolDir } from './streamed-body.js';

export interface DecodeMultipartStreamingOptions extends DecodeMultipartLimits {
  /** Directory for the parts that are spooled to files (the caller removes it when done). */
  readonly spoolDir: SpoolDir;
  /**
   * Bytes of attachment parts (every part but the root) held in memory, all parts together: a part that would take
   * the total beyond this goes to a file in `spoolDir` as it arrives. @defaultValue 1048576 (1 MiB)
   */
  readonly spoolThresholdBytes?: number;
  /**
   * The root part (the SOAP envelope) is held in memory, never spooled; more than this many bytes is refused while it
   * arrives with `rootTooLarge()` (or AS4_EBMS_0007). @defaultValue `spoolThresholdBytes`
   */
  readonly maxRootBytes?: number;
  /** The error for a root part above `maxRootBytes`. */
  readonly rootTooLarge?: (limit: number) => Error;
}

/** What all the in-memory attachment parts of one message hold together. */
interface MemoryBudget {
  held: number;
  readonly limit: number;
}

const PASS_THROUGH_ENCODINGS = new Set(['7bit', '8bit', 'binary']);

/**
 * A part's body as it arrives. The root part (the SOAP envelope) stays in memory up to its own limit. Attachments stay
 * in memory while all of them together fit the message's budget, then go to a file (hashed on the way): threat, a
 * peer sending 100 parts each just under a per-part threshold to have ~100 MB held in memory per request.
 */
class PartSink {
  private chunks: Buffer[] = [];
  private size = 0;
  private file?: { handle: FileHandle; path: string; hash: Hash };

  constructor(
    private readonly headers: Map<string, string>,
    private readonly root: boolean,
    private readonly budget: MemoryBudget,
    private readonly options: {
      readonly spoolDir: SpoolDir;
      readonly maxRootBytes: number;
      readonly rootTooLarge: (limit: number) => Error;
    },
  ) {}

  async write(bytes: Buffer): Promise<void> {
    if (bytes.length === 0) return;
    this.size += bytes.length;
    if (this.file) return this.append(bytes);
    if (this.root) {
      if (this.size > this.options.maxRootBytes) throw this.options.rootTooLarge(this.options.maxRootBytes);
      this.chunks.push(Buffer.from(bytes)); // a copy: `bytes` is a view of the parser's window, reused later
      return;
    }
    this.chunks.push(Buffer.from(bytes));
    this.budget.held += bytes.length;
    if (this.budget.held <= this.budget.limit) return;
    const cte = (this.headers.get('content-transfer-encoding') ?? '7bit').toLowerCase();
    // Decoding base64 or quoted-printable on the fly is not implemented; AS4 products send binary parts.
    if (!PASS_THROUGH_ENCODINGS.has(cte))
      fail(
        `Content-Transfer-Encoding ${cte} is not supported for attachments above ${this.budget.limit} bytes in all`,
      );
    const path = join(await spoolDirectory(this.options.spoolDir), randomUUID());
    this.file = { handle: await open(path, 'wx', 0o600), path, hash: createHash('sha256') };
    const pending = Buffer.concat(this.chunks);
    this.chunks = [];
    this.budget.held -= pending.length;
    await this.append(pending);
  }

  private async append(bytes: Buffer): Promise<void> {
    this.file!.hash.update(bytes);
    await this.file!.handle.write(bytes);
  }

  async finish(): Promise<RawPart> {
    if (!this.file) {
      const cte = (this.headers.get('content-transfer-encoding') ?? '7bit').toLowerCase();
      return { headers: this.headers, body: transferDecode(cte, Buffer.concat(this.chunks)) };
    }
    await this.file.handle.close();
    const body = fileBody(this.file.path, this.size, this.file.hash.digest());
    this.file = undefined;
    return { headers: this.headers, body };
  }

  async abort(): Promise<void> {
    await this.file?.handle.close().catch(() => {});
  }
}

/** What the boundary scan finds, in order: a part's headers, octets of its body, the end of the part. */
type ScanEvent =
  | { readonly kind: 'part'; readonly headers: Map<string, string> }
  | { readonly kind: 'data'; readonly bytes: Buffer }
  | { readonly kind: 'end' };

/**
 * The one MIME multipart boundary scan (RFC 2046 §5.1.1), fed the octets as they arrive. `feed` yields what a chunk
 * completes and keeps what could still be a delimiter cut in two; the yielded octets are views that stay valid.
 * A generator, so that a caller acting on each event (a part spooled to a file) meets the errors in the order the
 * octets carry them.
 */
class MultipartScanner {
  // `as`: assigned inside feed(), so the compiler must not narrow it to its first value.
  private state = 'preamble' as 'preamble' | 'delimiter' | 'headers' | 'body' | 'epilogue';
  private window: Buffer = Buffer.alloc(0);
  private dash: Buffer;
  private delimiter: Buffer;
  /** Parts begun so far. */
  parts = 0;

  constructor(
    boundary: string,
    private readonly limits: { readonly maxParts: number; readonly maxHeaderBytes: number },
  ) {
    this.dash = Buffer.from(`--${boundary}`);
    this.delimiter = Buffer.from(`\r\n--${boundary}`);
  }

  *feed(chunk: Buffer): Generator<ScanEvent> {
    const { dash, delimiter } = this;
    this.window = this.window.length === 0 ? chunk : Buffer.concat([this.window, chunk]);
    for (;;) {
      const window = this.window;
      if (this.state === 'preamble') {
        if (window.length < dash.length) return;
        if (window.subarray(0, dash.length).equals(dash)) {
          this.window = window.subarray(dash.length);
        } else {
          const at = window.indexOf(delimiter);
          if (at < 0) {
            this.window = window.subarray(Math.max(0, window.length - delimiter.length + 1));
            return;
          }
          this.window = window.subarray(at + delimiter.length);
        }
        this.state = 'delimiter';
      } else if (this.state === 'delimiter') {
        let pos = 0;
        if (window.length < 2) return;
        if (window[0] === 0x2d && window[1] === 0x2d) {
          if (this.parts === 0) fail('no body parts');
          this.state = 'epilogue'; // close delimiter; the epilogue is ignored (RFC 2046 §5.1.1)
          continue;
        }
        while (window[pos] === 0x20 || window[pos] === 0x09) pos++; // transport padding
        if (pos + 2 > window.length) return;
        if (window[pos] !== 0x0d || window[pos + 1] !== 0x0a) fail('boundary delimiter not followed by CRLF');
        if (this.parts >= this.limits.maxParts) fail(`more than ${this.limits.maxParts} parts`);
        this.window = window.subarray(pos + 2);
        this.state = 'headers';
      } else if (this.state === 'headers') {
        // A part ends at the first delimiter, also when that cuts its header block (or the blank line after it).
        let headerEnd: number;
        let bodyStart: number;
        if (window.length < delimiter.length) return;
        if (window[0] === 0x0d && window[1] === 0x0a) {
          if (window.subarray(0, delimiter.length).equals(delimiter))
            fail('part without header/body separator');
          headerEnd = 0;
          bodyStart = 2;
        } else {
          const sep = window.indexOf('\r\n\r\n');
          if (sep < 0) {
            if (window.indexOf(delimiter) >= 0) fail('part without header/body separator');
            if (window.length > this.limits.maxHeaderBytes) fail('part headers too large');
            return;
          }
          // The blank line's CRLF may open a delimiter: the part then has no body separator.
          const next = window.subarray(0, sep + 2 + delimiter.length).indexOf(delimiter);
          if (next >= 0) fail('part without header/body separator');
          if (window.length < sep + 2 + delimiter.length) return;
          headerEnd = sep;
          bodyStart = sep + 4;
        }
        const headers = parseHeaders(window.subarray(0, headerEnd), this.limits.maxHeaderBytes);
        this.parts++;
        this.window = window.subarray(bodyStart);
        this.state = 'body';
        yield { kind: 'part', headers };
      } else if (this.state === 'body') {
        const at = window.indexOf(delimiter);
        if (at < 0) {
          // Keep what could be the start of a delimiter split across two chunks.
          const safe = Math.max(0, window.length - delimiter.length + 1);
          this.window = window.subarray(safe);
          if (safe > 0) yield { kind: 'data', bytes: window.subarray(0, safe) };
          return;
        }
        this.window = window.subarray(at + delimiter.length);
        this.state = 'delimiter';
        if (at > 0) yield { kind: 'data', bytes: window.subarray(0, at) };
        yield { kind: 'end' };
      } else {
        this.window = Buffer.alloc(0);
        return;
      }
    }
  }

  /** The octets ended: anything but a complete message is AS4_EBMS_0007. */
  finish(): void {
    if (this.state === 'preamble') fail('no boundary delimiter');
    if (this.state !== 'epilogue') fail('missing close delimiter');
  }
}

const decodeLimits = (limits: DecodeMultipartLimits) => ({
  maxBytes: limits.maxBytes ?? 104_857_600,
  maxParts: limits.maxParts ?? 101,
  maxHeaderBytes: limits.maxHeaderBytes ?? 16_384,
});

const tooLargeMessage = (maxBytes: number) =>
  new QerdsError('AS4_EBMS_0007', `MIME message exceeds ${maxBytes} bytes`, { details: { limit: maxBytes } });

/**
 * decodeMultipart over a stream (RFC 2046 boundary scan as the octets arrive): the SOAP part stays in
 * memory (at most `maxRootBytes`), attachments stay in memory while all of them together fit `spoolThresholdBytes`
 * and are otherwise written to files of `spoolDir` as they arrive, so a message of any size and any number of parts
 * passes in a small, fixed amount of memory (root limit + threshold + one read chunk). Same rules and errors (AS4_EBMS_0007) as
 * decodeMultipart; limits are enforced while the octets arrive.
 */
export async function decodeMultipartStreaming(
  contentType: string,
  source: AsyncIterable<Buffer>,
  options: DecodeMultipartStreamingOptions,
): Promise<DecodedMultipart> {
  const limits = decodeLimits(options);
  const threshold = options.spoolThresholdBytes ?? 1_048_576;
  const sinkOptions = {
    spoolDir: options.spoolDir,
    maxRootBytes: options.maxRootBytes ?? threshold,
    rootTooLarge:
      options.rootTooLarge ??
      ((limit: number) =>
        new QerdsError('AS4_EBMS_0007', `SOAP envelope part exceeds ${limit} bytes`, { details: { limit } })),
  };
  const budget: MemoryBudget = { held: 0, limit: threshold };
  const { ct, boundary } = multipartBoundary(contentType);
  // The root part is known before it arrives: the `start` parameter's Content-ID, else the first part (RFC 2387).
  const start = ct.params.get('start');
  const rootId = start === undefined ? undefined : start.trim().replace(/^<|>$/g, '');
  // Only the first part that matches: a second one with the same Content-ID is refused later (duplicate), and must
  // not be held in memory as a root meanwhile.
  let rootSeen = false;
  const isRoot = (headers: Map<string, string>): boolean => {
    const root =
      !rootSeen &&
      (rootId === undefined
        ? parts.length === 0
        : (headers.get('content-id') ?? '').trim().replace(/^<|>$/g, '') === rootId);
    if (root) rootSeen = true;
    return root;
  };
  const scanner = new MultipartScanner(boundary, limits);
  const parts: RawPart[] = [];
  let total = 0;
  let sink: PartSink | undefined;
  try {
    for await (const chunk of source) {
      total += chunk.length;
      if (total > limits.maxBytes) throw tooLargeMessage(limits.maxBytes);
      for (const event of scanner.feed(chunk)) {
        if (event.kind === 'part')
          sink = new PartSink(event.headers, isRoot(event.headers), budget, sinkOptions);
        else if (event.kind === 'data') await sink!.write(event.bytes);
        else {
          parts.push(await sink!.finish());
          sink = undefined;
        }
      }
    }
    scanner.finish();
  } catch (error) {
    await sink?.abort();
    throw error;
  }
  return assembleParts(ct, parts);
}

/**
 * Decode SOAP with Attachments (multipart/related, RFC 2387 + RFC 2046) held in memory: the boundary scan of
 * decodeMultipartStreaming over the one buffer, every part kept in memory (a view of `body` where no transfer
 * decoding applies). The root part (the `start` parameter, else the first part) is the envelope, the others are
 * attachments keyed by Content-ID. MIME problems are QerdsError AS4_EBMS_0007 (MimeInconsistency).
 */
export function decodeMultipart(
  contentType: string,
  body: Buffer,
  limits: DecodeMultipartLimits = {},
): DecodedMultipart {
  const lim = decodeLimits(limits);
  if (body.length > lim.maxBytes) throw tooLargeMessage(lim.maxBytes);
  const { ct, boundary } = multipartBoundary(contentType);
  const scanner = new MultipartScanner(boundary, lim);
  const parts: RawPart[] = [];
  let headers = new Map<string, string>();
  let chunks: Buffer[] = [];
  for (const event of scanner.feed(body)) {
    if (event.kind === 'part') {
      headers = event.headers;
      chunks = [];
    } else if (event.kind === 'data') chunks.push(event.bytes);
    else {
      const cte = (headers.get('content-transfer-encoding') ?? '7bit').toLowerCase();
      const octets = chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks);
      parts.push({ headers, body: transferDecode(cte, octets) });
    }
  }
  scanner.finish();
  return assembleParts(ct, parts);
}
