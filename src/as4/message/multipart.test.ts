import { describe, expect, it } from 'vitest';
import { encodeMultipart } from './multipart.js';
import { decodeMultipart, decodeMultipartStreaming } from './multipart-stream.js';
import { parseContentType } from './mime-content-type.js';

const envelope =
  '<env:Envelope xmlns:env="http://www.w3.org/2003/05/soap-envelope"><env:Header/><env:Body/></env:Envelope>';
const payload = Buffer.from([0, 1, 2, 13, 10, 45, 45, 255, 13]);

describe('MIME multipart/related codec', () => {
  it('round-trips the envelope and binary attachments byte for byte', () => {
    const enc = encodeMultipart(envelope, [
      { contentId: 'p1@x', contentType: 'application/octet-stream', body: payload },
    ]);
    const ct = parseContentType(enc.contentType);
    expect(ct.mediaType).toBe('multipart/related');
    expect(ct.params.get('type')).toBe('application/soap+xml');
    expect(ct.params.get('start')).toMatch(/^<root-[0-9a-f]+@qerds>$/);
    const dec = decodeMultipart(enc.contentType, enc.body);
    expect(dec.envelope).toBe(envelope);
    expect(dec.soapVersion).toBe('1.2');
    expect(dec.attachments).toEqual([
      { contentId: 'p1@x', contentType: 'application/octet-stream', body: payload },
    ]);
  });

  it('honours quoted parameters with escapes, the start part and a preamble', () => {
    const body = Buffer.from(
      'preamble\r\n--a b,c\r\nContent-ID: <att@x>\r\nContent-Type: text/plain\r\n\r\nhello\r\n' +
        `--a b,c\r\nContent-Type: application/soap+xml; charset="UTF-8"\r\nContent-ID:\r\n <root@x>\r\n\r\n${envelope}\r\n--a b,c--\r\nepilogue`,
    );
    const dec = decodeMultipart(
      'Multipart/Related; boundary="a b,c"; type="application\\/soap+xml"; start="<root@x>";',
      body,
    );
    expect(dec.envelope).toBe(envelope);
    expect(dec.attachments.map((a) => [a.contentId, a.body.toString()])).toEqual([['att@x', 'hello']]);
  });

  it('decodes base64 transfer encoding', () => {
    const body = Buffer.from(
      `--b\r\nContent-Type: application/soap+xml\r\n\r\n${envelope}\r\n--b\r\nContent-Type: application/octet-stream\r\nContent-ID: <p@x>\r\nContent-Transfer-Encoding: base64\r\n\r\n${payload.toString('base64')}\r\n--b--\r\n`,
    );
    expect(decodeMultipart('multipart/related; boundary=b', body).attachments[0]!.body).toEqual(payload);
  });

  it.each([
    [
      'bare LF in headers',
      'multipart/related; boundary=b',
      `--b\nContent-Type: application/soap+xml\r\n\r\n${envelope}\r\n--b--\r\n`,
    ],
    [
      'no close delimiter',
      'multipart/related; boundary=b',
      `--b\r\nContent-Type: application/soap+xml\r\n\r\n${envelope}`,
    ],
    ['no boundary parameter', 'multipart/related', `--b\r\n\r\n--b--`],
    ['unterminated quoted parameter', 'multipart/related; boundary="b', `--b\r\n\r\n--b--`],
    [
      'start part missing',
      'multipart/related; boundary=b; start="<nope>"',
      `--b\r\nContent-Type: application/soap+xml\r\n\r\n${envelope}\r\n--b--\r\n`,
    ],
    [
      'root not SOAP',
      'multipart/related; boundary=b',
      `--b\r\nContent-Type: text/plain\r\n\r\nhi\r\n--b--\r\n`,
    ],
    [
      'attachment without Content-ID',
      'multipart/related; boundary=b',
      `--b\r\nContent-Type: application/soap+xml\r\n\r\n${envelope}\r\n--b\r\nContent-Type: text/plain\r\n\r\nx\r\n--b--\r\n`,
    ],
    [
      'duplicate Content-ID',
      'multipart/related; boundary=b',
      `--b\r\nContent-Type: application/soap+xml\r\n\r\n${envelope}\r\n--b\r\nContent-ID: <a>\r\nContent-Type: text/plain\r\n\r\nx\r\n--b\r\nContent-ID: <a>\r\nContent-Type: text/plain\r\n\r\ny\r\n--b--\r\n`,
    ],
    [
      'unknown transfer encoding',
      'multipart/related; boundary=b',
      `--b\r\nContent-Type: application/soap+xml\r\nContent-Transfer-Encoding: x-uue\r\n\r\n${envelope}\r\n--b--\r\n`,
    ],
  ])('refuses %s with AS4_EBMS_0007', (_name, ct, body) => {
    expect(() => decodeMultipart(ct, Buffer.from(body))).toThrow(
      expect.objectContaining({ code: 'AS4_EBMS_0007' }),
    );
  });

  // The endpoint's streamed decoder once read these past the delimiter (a header line "--x:y" parsed as a field,
  // a blank line whose CRLF opens the delimiter taken as the separator) where the whole-message decoder refused
  // them: two parsers splitting one message differently. Both now scan with the one scanner, in any chunking.
  it.each([
    [
      'a header block cut by the delimiter (boundary with a colon)',
      'x:y',
      `--x:y\r\nContent-Type: application/soap+xml\r\n\r\n${envelope}\r\n--x:y\r\nContent-ID: <a>\r\n--x:y\r\nContent-Type: text/plain\r\n\r\nz\r\n--x:y--\r\n`,
    ],
    [
      'a blank line whose CRLF opens the delimiter',
      'b',
      `--b\r\nContent-Type: application/soap+xml\r\n\r\n${envelope}\r\n--b\r\nContent-ID: <a>\r\nContent-Type: text/plain\r\n\r\n--b\r\nContent-ID: <c>\r\nContent-Type: text/plain\r\n\r\nz\r\n--b--\r\n`,
    ],
  ])('ends a part at the first delimiter: refuses %s, whole and streamed', async (_name, boundary, text) => {
    const contentType = `multipart/related; boundary="${boundary}"`;
    const body = Buffer.from(text);
    const separator = expect.objectContaining({
      code: 'AS4_EBMS_0007',
      message: expect.stringContaining('part without header/body separator'),
    });
    expect(() => decodeMultipart(contentType, body)).toThrow(separator);
    for (const size of [1, 7, body.length]) {
      async function* chunks() {
        for (let i = 0; i < body.length; i += size) yield body.subarray(i, i + size);
      }
      await expect(
        decodeMultipartStreaming(contentType, chunks(), {
          spoolDir: () => Promise.reject(new Error('no spool')),
        }),
      ).rejects.toThrow(separator);
    }
  });

  it('enforces the size limit', () => {
    const enc = encodeMultipart(envelope, [
      { contentId: 'p@x', contentType: 'application/octet-stream', body: Buffer.alloc(2048) },
    ]);
    expect(() => decodeMultipart(enc.contentType, enc.body, { maxBytes: 1024 })).toThrow(
      expect.objectContaining({ code: 'AS4_EBMS_0007' }),
    );
  });
});
