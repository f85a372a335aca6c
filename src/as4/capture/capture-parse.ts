import { QerdsError } from '../../core/index.js';
import { NS } from '../model/namespaces.js';

/** What a captured AS4 exchange was wrapped in, and its parts. */
export interface CaptureContainer {
  readonly kind: 'http-request' | 'http-response' | 'mime' | 'soap';
  /** `POST /as4 HTTP/1.1` or `HTTP/1.1 200 OK`. */
  readonly startLine?: string;
  /** Header names lower-cased. */
  readonly headers: ReadonlyMap<string, string>;
  readonly contentType?: string;
  readonly body: Buffer;
  /** `Transfer-Encoding: chunked` in the headers, but the body was stored de-chunked (read as it is). */
  readonly alreadyDechunked?: boolean;
}

const HTTP_REQUEST = /^[A-Z]+ \S+ HTTP\/\d(?:\.\d)?$/;
const HTTP_RESPONSE = /^HTTP\/\d(?:\.\d)? \d{3}(?: .*)?$/;
const CHUNK_SIZE_LINE = /^[0-9A-Fa-f]{1,16}[ \t]*(?:;[^\r\n]*)?\r?\n/;
const HEADER_LINE = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+[ \t]*:/;

/** Index just after the blank line that ends a header block (CRLF CRLF, or LF LF in hand-copied dumps). */
function headerEnd(buf: Buffer): { end: number; bodyStart: number } | undefined {
  const crlf = buf.indexOf('\r\n\r\n');
  const lf = buf.indexOf('\n\n');
  if (crlf < 0 && lf < 0) return undefined;
  if (crlf >= 0 && (lf < 0 || crlf < lf)) return { end: crlf, bodyStart: crlf + 4 };
  return { end: lf, bodyStart: lf + 2 };
}

function parseHeaderBlock(text: string): Map<string, string> {
  const headers = new Map<string, string>();
  for (const line of text.replace(/\r?\n(?=[ \t])/g, ' ').split(/\r?\n/)) {
    if (line === '') continue;
    const colon = line.indexOf(':');
    if (colon <= 0) throw new QerdsError('AS4_CAPTURE_UNREADABLE', `not a header line: ${line.slice(0, 80)}`);
    const name = line.slice(0, colon).trim().toLowerCase();
    const value = line.slice(colon + 1).trim();
    headers.set(name, headers.has(name) ? `${headers.get(name)!}, ${value}` : value);
  }
  return headers;
}

/** RFC 9112 §7.1 chunked transfer coding → the body (trailers dropped). */
function dechunk(body: Buffer): Buffer {
  const out: Buffer[] = [];
  let pos = 0;
  for (;;) {
    const eol = body.indexOf('\n', pos);
    if (eol < 0) throw new QerdsError('AS4_CAPTURE_UNREADABLE', 'truncated chunked body');
    const size = parseInt(body.subarray(pos, eol).toString('latin1').split(';')[0]!.trim(), 16);
    if (!Number.isFinite(size) || size < 0)
      throw new QerdsError('AS4_CAPTURE_UNREADABLE', 'invalid chunk size');
    pos = eol + 1;
    if (size === 0) return Buffer.concat(out);
    if (pos + size > body.length) throw new QerdsError('AS4_CAPTURE_UNREADABLE', 'truncated chunk');
    out.push(body.subarray(pos, pos + size));
    pos += size;
    if (body[pos] === 0x0d) pos++;
    if (body[pos] === 0x0a) pos++;
  }
}

/**
 * Recognise a captured AS4 exchange: an HTTP request or response dump (start line, headers, body; chunked
 * bodies are de-chunked), a MIME entity (header lines, e.g. `Content-Type: multipart/related; …`, then the
 * body), a bare multipart body (starting with its `--boundary` line), or a bare SOAP envelope.
 */
export function parseCapture(bytes: Buffer): CaptureContainer {
  let buf = bytes;
  if (buf[0] === 0xef && buf[1] === 0xbb && buf[2] === 0xbf) buf = buf.subarray(3);
  let start = 0;
  while (
    start < buf.length &&
    (buf[start] === 0x20 || buf[start] === 0x09 || buf[start] === 0x0d || buf[start] === 0x0a)
  )
    start++;
  buf = buf.subarray(start);
  const firstLineEnd = buf.indexOf('\n');
  const firstLine = buf
    .subarray(0, firstLineEnd < 0 ? buf.length : firstLineEnd)
    .toString('latin1')
    .replace(/\r$/, '');

  if (buf[0] === 0x3c /* < */) return { kind: 'soap', headers: new Map(), body: buf };
  if (firstLine.startsWith('--') && !firstLine.includes(' ')) {
    const boundary = firstLine.slice(2);
    return {
      kind: 'mime',
      headers: new Map(),
      contentType: `multipart/related; boundary="${boundary}"`,
      body: buf,
    };
  }
  const isRequest = HTTP_REQUEST.test(firstLine);
  const isResponse = HTTP_RESPONSE.test(firstLine);
  if (!isRequest && !isResponse && !HEADER_LINE.test(firstLine)) {
    throw new QerdsError('AS4_CAPTURE_UNREADABLE', 'not an HTTP dump, a MIME message or a SOAP envelope');
  }
  const headBytes = isRequest || isResponse ? buf.subarray(firstLineEnd + 1) : buf;
  const split = headerEnd(headBytes);
  if (!split) throw new QerdsError('AS4_CAPTURE_UNREADABLE', 'headers are not followed by a blank line');
  const headers = parseHeaderBlock(headBytes.subarray(0, split.end).toString('latin1'));
  let body = headBytes.subarray(split.bodyStart);
  let alreadyDechunked = false;
  if (/\bchunked\b/i.test(headers.get('transfer-encoding') ?? '')) {
    // Dumps taken above the HTTP layer (phase4's .as4in/.as4out) keep the header but hold the body de-chunked:
    // a chunked body starts with a hexadecimal chunk size line, a SOAP or MIME body never does.
    if (CHUNK_SIZE_LINE.test(body.subarray(0, 80).toString('latin1'))) body = dechunk(body);
    else alreadyDechunked = true;
  }
  const contentType = headers.get('content-type');
  return {
    kind: isRequest ? 'http-request' : isResponse ? 'http-response' : 'mime',
    ...(isRequest || isResponse ? { startLine: firstLine } : {}),
    headers,
    ...(contentType ? { contentType } : {}),
    body,
    ...(alreadyDechunked ? { alreadyDechunked } : {}),
  };
}

/** Whether a file looks like an AS4 capture (it names the ebMS 3 namespace): lets `qerds verify` pick AS4 or evidence. */
export function isAs4Capture(bytes: Buffer): boolean {
  return bytes.includes(NS.eb);
}
