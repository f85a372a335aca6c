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
  const maxBytes = options.maxBytes ?? 104_857_600;
  const maxParts = options.maxParts ?? 101;
  const maxHeaderBytes = options.maxHeaderBytes ?? 16_384;
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
  const dash = Buffer.from(`--${boundary}`);
  const delimiter = Buffer.from(`\r\n--${boundary}`);

  const parts: RawPart[] = [];
  // `as`: assigned inside step(), so the compiler must not narrow it to its first value.
  let state = 'preamble' as 'preamble' | 'delimiter' | 'headers' | 'body' | 'epilogue';
  let window: Buffer = Buffer.alloc(0);
  let total = 0;
  let sink: PartSink | undefined;

  /** Consumes what `window` allows; returns when it needs more octets. */
  const step = async (): Promise<void> => {
    for (;;) {
      if (state === 'preamble') {
        if (window.length < dash.length) return;
        if (window.subarray(0, dash.length).equals(dash)) {
          window = window.subarray(dash.length);
        } else {
          const at = window.indexOf(delimiter);
          if (at < 0) {
            window = window.subarray(Math.max(0, window.length - delimiter.length + 1));
            return;
          }
          window = window.subarray(at + delimiter.length);
        }
        state = 'delimiter';
      } else if (state === 'delimiter') {
        let pos = 0;
        if (window.length < 2) return;
        if (window[0] === 0x2d && window[1] === 0x2d) {
          if (parts.length === 0) fail('no body parts');
          state = 'epilogue'; // close delimiter; the epilogue is ignored (RFC 2046 §5.1.1)
          continue;
        }
        while (window[pos] === 0x20 || window[pos] === 0x09) pos++; // transport padding
        if (pos + 2 > window.length) return;
        if (window[pos] !== 0x0d || window[pos + 1] !== 0x0a) fail('boundary delimiter not followed by CRLF');
        if (parts.length >= maxParts) fail(`more than ${maxParts} parts`);
        window = window.subarray(pos + 2);
        state = 'headers';
      } else if (state === 'headers') {
        if (window.length < 2) return;
        let headerEnd: number;
        let bodyStart: number;
        if (window[0] === 0x0d && window[1] === 0x0a) {
          headerEnd = 0;
          bodyStart = 2;
        } else {
          const sep = window.indexOf('\r\n\r\n');
          if (sep < 0) {
            if (window.length > maxHeaderBytes) fail('part headers too large');
            return;
          }
          headerEnd = sep;
          bodyStart = sep + 4;
        }
        const headers = parseHeaders(window.subarray(0, headerEnd), maxHeaderBytes);
        sink = new PartSink(headers, isRoot(headers), budget, sinkOptions);
        window = window.subarray(bodyStart);
        state = 'body';
      } else if (state === 'body') {
        const at = window.indexOf(delimiter);
        if (at < 0) {
          // Keep what could be the start of a delimiter split across two chunks.
          const safe = Math.max(0, window.length - delimiter.length + 1);
          await sink!.write(window.subarray(0, safe));
          window = window.subarray(safe);
          return;
        }
        await sink!.write(window.subarray(0, at));
        parts.push(await sink!.finish());
        sink = undefined;
        window = window.subarray(at + delimiter.length);
        state = 'delimiter';
      } else {
        window = Buffer.alloc(0);
        return;
      }
    }
  };

  try {
    for await (const chunk of source) {
      total += chunk.length;
      if (total > maxBytes)
        throw new QerdsError('AS4_EBMS_0007', `MIME message exceeds ${maxBytes} bytes`, {
          details: { limit: maxBytes },
        });
      window = window.length === 0 ? chunk : Buffer.concat([window, chunk]);
      await step();
    }
    if (state === 'preamble') fail('no boundary delimiter');
    if (state !== 'epilogue') fail('missing close delimiter');
  } catch (error) {
    await sink?.abort();
    throw error;
  }
  return assembleParts(ct, parts);
}
