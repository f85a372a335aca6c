import { randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { QerdsError } from '../../core/index.js';
import { formatParam, parseContentType } from './mime-content-type.js';
import { SOAP11_MEDIA_TYPE, SOAP12_MEDIA_TYPE } from '../model/namespaces.js';
import { streamedAttachment } from './streamed-body.js';
import type { Attachment, SoapVersion, StreamedBody } from '../model/types.js';

const CRLF = Buffer.from('\r\n');

export interface EncodeMultipartOptions {
  /** @defaultValue '1.2' */
  readonly soapVersion?: SoapVersion;
  /** @defaultValue random */
  readonly boundary?: string;
  /** Content-ID of the SOAP part, without angle brackets. @defaultValue random `…@qerds` */
  readonly rootContentId?: string;
}

export interface EncodedMultipart {
  readonly contentType: string;
  readonly body: Buffer;
}

/**
 * SOAP with Attachments as MIME multipart/related (RFC 2387): the envelope first (the `start` part),
 * then one part per attachment, all with `Content-Transfer-Encoding: binary`.
 */
export function encodeMultipart(
  envelopeXml: string,
  attachments: readonly Attachment[],
  options: EncodeMultipartOptions = {},
): EncodedMultipart {
  const { contentType, segments } = multipartSegments(envelopeXml, attachments, options);
  return { contentType, body: Buffer.concat(segments.map((s) => (Buffer.isBuffer(s) ? s : s.body))) };
}

export interface StreamedMultipart {
  readonly contentType: string;
  /** bytes */
  readonly size: number;
  /** The message, read from the attachments' streams while it is written: memory stays flat whatever their size. */
  open(): Readable;
}

/** encodeMultipart for attachments that may be streamed (their parts are read from `stream` as the body is sent). */
export function encodeMultipartStreaming(
  envelopeXml: string,
  attachments: readonly Attachment[],
  options: EncodeMultipartOptions = {},
): StreamedMultipart {
  const { contentType, segments } = multipartSegments(envelopeXml, attachments, options);
  const sizeOf = (s: Buffer | Attachment) =>
    Buffer.isBuffer(s) ? s.length : (s.stream?.size ?? s.body.length);
  return {
    contentType,
    size: segments.reduce((sum, s) => sum + sizeOf(s), 0),
    open: () =>
      Readable.from(
        (async function* () {
          for (const s of segments) {
            if (Buffer.isBuffer(s)) yield s;
            else if (!s.stream) yield s.body;
            else yield* s.stream.open();
          }
        })(),
        { objectMode: false },
      ),
  };
}

/** The message as a sequence of header octets and attachments (whose bodies follow in memory or as streams). */
function multipartSegments(
  envelopeXml: string,
  attachments: readonly Attachment[],
  options: EncodeMultipartOptions,
): { contentType: string; segments: (Buffer | Attachment)[] } {
  const soapType = (options.soapVersion ?? '1.2') === '1.2' ? SOAP12_MEDIA_TYPE : SOAP11_MEDIA_TYPE;
  const rootId = options.rootContentId ?? `root-${randomBytes(8).toString('hex')}@qerds`;
  const boundary = options.boundary ?? `MIMEBoundary_${randomBytes(18).toString('hex')}`;
  if (!/^[0-9A-Za-z'()+_,\-./:=? ]{0,69}[0-9A-Za-z'()+_,\-./:=?]$/.test(boundary)) {
    throw new QerdsError('AS4_EBMS_0007', 'invalid MIME boundary');
  }
  const envelope = Buffer.from(envelopeXml, 'utf8');
  const marker = Buffer.from(`\r\n--${boundary}`);
  const ids = new Set<string>([rootId]);
  for (const a of attachments) {
    if (ids.has(a.contentId)) throw new QerdsError('AS4_EBMS_0007', `duplicate Content-ID ${a.contentId}`);
    ids.add(a.contentId);
    if (/[<>\r\n]/.test(a.contentId) || /[\r\n]/.test(a.contentType))
      throw new QerdsError('AS4_EBMS_0007', 'invalid MIME header value');
  }
  // RFC 2046 §5.1.1: the boundary must not occur in any encapsulated part. A streamed part is not searched:
  // the boundary is chosen at random (144 bits) after its content was fixed, so no sender can plant it there.
  for (const b of [envelope, ...attachments.filter((a) => !a.stream).map((a) => a.body)]) {
    if (b.includes(marker) || b.subarray(0, marker.length - 2).equals(marker.subarray(2))) {
      throw new QerdsError('AS4_EBMS_0007', 'MIME boundary occurs in a part');
    }
  }
  const segments: (Buffer | Attachment)[] = [];
  const head = (headers: string[]) => Buffer.from(`--${boundary}\r\n${headers.join('\r\n')}\r\n\r\n`, 'utf8');
  segments.push(
    head([
      `Content-Type: ${soapType}; charset=UTF-8`,
      'Content-Transfer-Encoding: binary',
      `Content-ID: <${rootId}>`,
    ]),
    envelope,
    CRLF,
  );
  for (const a of attachments) {
    segments.push(
      head([
        `Content-Type: ${a.contentType}`,
        'Content-Transfer-Encoding: binary',
        `Content-ID: <${a.contentId}>`,
      ]),
      a,
      CRLF,
    );
  }
  segments.push(Buffer.from(`--${boundary}--\r\n`));
  const contentType = [
    'multipart/related',
    formatParam('boundary', boundary),
    formatParam('type', soapType),
    formatParam('start', `<${rootId}>`),
  ].join('; ');
  return { contentType, segments };
}

export interface DecodeMultipartLimits {
  /** @defaultValue 104857600 (bytes) */
  readonly maxBytes?: number;
  /** @defaultValue 101 (the envelope and 100 attachments) */
  readonly maxParts?: number;
  /** Per part header block. @defaultValue 16384 (bytes) */
  readonly maxHeaderBytes?: number;
}

export interface DecodedMultipart {
  readonly envelope: string;
  readonly soapVersion: SoapVersion;
  readonly attachments: Attachment[];
}

/** One MIME part, its body transfer-decoded (in memory, or spooled to a file). */
export interface RawPart {
  readonly headers: Map<string, string>;
  readonly body: Buffer | StreamedBody;
}

export const fail = (why: string): never => {
  throw new QerdsError('AS4_EBMS_0007', `malformed MIME message: ${why}`);
};

export function parseHeaders(block: Buffer, maxHeaderBytes: number): Map<string, string> {
  if (block.length > maxHeaderBytes) fail('part headers too large');
  const text = block.toString('latin1');
  // Strict CRLF: a bare CR or LF in the header block is refused (two parsers would split it differently).
  if (/\r(?!\n)|(?<!\r)\n/.test(text)) fail('bare CR or LF in part headers');
  const headers = new Map<string, string>();
  if (text.length === 0) return headers;
  const unfolded = text.replace(/\r\n(?=[ \t])/g, '');
  for (const line of unfolded.split('\r\n')) {
    const m = /^([!#$%&'*+\-.^_`|~0-9A-Za-z]+)[ \t]*:(.*)$/.exec(line);
    if (!m) fail(`invalid header line "${line.slice(0, 80)}"`);
    const name = m![1]!.toLowerCase();
    if (headers.has(name)) fail(`duplicate header ${name}`);
    headers.set(name, m![2]!.trim());
  }
  return headers;
}

export function transferDecode(encoding: string, body: Buffer): Buffer {
  switch (encoding) {
    case '7bit':
    case '8bit':
    case 'binary':
      return body;
    case 'base64': {
      const text = body.toString('latin1').replace(/[\r\n\t ]/g, '');
      if (!/^[A-Za-z0-9+/]*={0,2}$/.test(text) || text.length % 4 !== 0) fail('invalid base64 part');
      return Buffer.from(text, 'base64');
    }
    case 'quoted-printable': {
      const text = body.toString('latin1').replace(/=\r\n/g, '');
      if (/=(?![0-9A-Fa-f]{2})/.test(text)) fail('invalid quoted-printable part');
      return Buffer.from(
        text.replace(/=([0-9A-Fa-f]{2})/g, (_m, h: string) => String.fromCharCode(parseInt(h, 16))),
        'latin1',
      );
    }
    default:
      return fail(`unsupported Content-Transfer-Encoding ${encoding}`);
  }
}

function stripAngle(id: string): string {
  const m = /^<([^<>]+)>$/.exec(id.trim());
  return m ? m[1]! : fail(`invalid Content-ID ${id}`);
}

/** The Content-Type of a multipart/related message and its boundary (AS4_EBMS_0007 when either is wrong). */
export function multipartBoundary(contentType: string): {
  ct: ReturnType<typeof parseContentType>;
  boundary: string;
} {
  const ct = parseContentType(contentType);
  if (ct.mediaType !== 'multipart/related') fail(`expected multipart/related, got ${ct.mediaType}`);
  const boundary = ct.params.get('boundary');
  if (!boundary || !/^[0-9A-Za-z'()+_,\-./:=? ]{0,69}[0-9A-Za-z'()+_,\-./:=?]$/.test(boundary))
    fail('missing or invalid boundary');
  return { ct, boundary: boundary! };
}

/**
 * The envelope and attachments of split parts: the root part (the `start` parameter, else the first part)
 * is the envelope and must be in memory; the others are attachments keyed by Content-ID (a spooled one as
 * a streamed attachment).
 */
export function assembleParts(
  ct: ReturnType<typeof parseContentType>,
  parts: readonly RawPart[],
): DecodedMultipart {
  const ids = new Map<string, RawPart>();
  for (const p of parts) {
    const cid = p.headers.get('content-id');
    if (cid === undefined) continue;
    const id = stripAngle(cid);
    if (ids.has(id)) fail(`duplicate Content-ID ${id}`);
    ids.set(id, p);
  }
  const start = ct.params.get('start');
  const root =
    start === undefined ? parts[0]! : (ids.get(stripAngle(start)) ?? fail(`start part ${start} not found`));
  const rootType = parseContentType(
    root.headers.get('content-type') ?? fail('root part without Content-Type'),
  );
  const declared = ct.params.get('type')?.toLowerCase();
  if (declared !== undefined && declared !== rootType.mediaType)
    fail(`root part is ${rootType.mediaType}, type parameter says ${declared}`);
  let soapVersion: SoapVersion;
  if (rootType.mediaType === SOAP12_MEDIA_TYPE) soapVersion = '1.2';
  else if (rootType.mediaType === SOAP11_MEDIA_TYPE) soapVersion = '1.1';
  else return fail(`root part is ${rootType.mediaType}, not a SOAP envelope`);
  const charset = rootType.params.get('charset')?.toLowerCase();
  if (charset !== undefined && charset !== 'utf-8') fail(`unsupported envelope charset ${charset}`);
  if (!Buffer.isBuffer(root.body)) return fail('SOAP envelope part too large');
  let envelope: string;
  try {
    envelope = new TextDecoder('utf-8', { fatal: true }).decode(root.body);
  } catch {
    return fail('envelope is not UTF-8');
  }
  const attachments: Attachment[] = [];
  for (const p of parts) {
    if (p === root) continue;
    const cid = p.headers.get('content-id') ?? fail('attachment without Content-ID');
    const type = p.headers.get('content-type') ?? fail(`attachment ${cid} without Content-Type`);
    parseContentType(type);
    const contentId = stripAngle(cid);
    attachments.push(
      Buffer.isBuffer(p.body)
        ? { contentId, contentType: type, body: p.body }
        : streamedAttachment(contentId, type, p.body),
    );
  }
  return { envelope, soapVersion, attachments };
}

/** `cid:` URL (RFC 2392, %-escaped) → Content-ID without angle brackets. */
export function contentIdFromCid(uri: string): string | undefined {
  if (!/^cid:/i.test(uri)) return undefined;
  try {
    return decodeURIComponent(uri.slice(4));
  } catch {
    return undefined;
  }
}
