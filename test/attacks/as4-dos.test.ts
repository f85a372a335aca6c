import { request } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TwoAccessPoints } from '../../src/harness/two-access-points.js';
import { messagesAtC3, sendValidMessage, startTarget } from './support.js';

/**
 * Unauthenticated CPU and memory exhaustion at /as4. A costly envelope is refused before
 * it is parsed (as4.envelope limits), with the ebMS error the spec gives (EBMS:0004 for size, EBMS:0009
 * InvalidHeader for XML the header cannot be read from), nothing is stored, and C3 then takes a valid message.
 */
const SOAP12 = 'application/soap+xml; charset=UTF-8';
const ENV_OPEN =
  '<S:Envelope xmlns:S="http://www.w3.org/2003/05/soap-envelope" xmlns:x="urn:x"><S:Header/><S:Body>';
const ENV_CLOSE = '</S:Body></S:Envelope>';

function post(
  url: string,
  body: Buffer | string,
  contentType = SOAP12,
): Promise<{ status: number; type: string; body: string }> {
  const bytes = Buffer.isBuffer(body) ? body : Buffer.from(body);
  return new Promise((resolve, reject) => {
    const req = request(
      url,
      { method: 'POST', headers: { 'content-type': contentType, 'content-length': bytes.length } },
      (res) => {
        let text = '';
        res
          .setEncoding('utf8')
          .on('data', (c: string) => (text += c))
          .on('end', () =>
            resolve({
              status: res.statusCode ?? 0,
              type: String(res.headers['content-type'] ?? ''),
              body: text,
            }),
          );
      },
    );
    // The server may answer 413 and close before the whole body is written: the answer is what counts.
    req.on('error', reject);
    req.end(bytes);
  });
}

describe('AS4 denial of service', () => {
  let net: TwoAccessPoints;
  let as4: string;
  beforeAll(async () => {
    net = await startTarget('as4-dos');
    as4 = `${net.c3.url}/as4`;
  }, 120_000);
  afterAll(() => net?.stop());

  it('refuses an envelope over as4.envelope.maxBytes with 413 and EBMS:0004, before reading it', async () => {
    const before = await messagesAtC3(net);
    const el = '<x:e a="1" b="2" c="3" d="4" e="5" f="6" g="7" h="8"/>';
    const answer = await post(as4, ENV_OPEN + el.repeat(Math.ceil(1_100_000 / el.length)) + ENV_CLOSE);
    expect(answer.status).toBe(413);
    expect(answer.type).toContain('application/soap+xml');
    expect(answer.body).toContain('EBMS:0004');
    expect(answer.body).toContain('SOAP envelope exceeds 1048576 bytes');
    expect(await messagesAtC3(net)).toBe(before);
  });

  it('answers 100 000-deep XML with EBMS:0009 InvalidHeader (not a stack overflow and an empty 500)', async () => {
    const before = await messagesAtC3(net);
    const answer = await post(
      as4,
      `${ENV_OPEN}${'<a>'.repeat(100_000)}${'</a>'.repeat(100_000)}${ENV_CLOSE}`,
    );
    expect(answer.status).toBe(500);
    expect(answer.body).toContain('EBMS:0009');
    expect(answer.body).toContain('elements nested deeper than 64');
    expect(await messagesAtC3(net)).toBe(before);
  });

  it('answers an envelope with too many elements, or too many attributes on one, with EBMS:0009', async () => {
    const before = await messagesAtC3(net);
    const many = await post(as4, ENV_OPEN + '<a/>'.repeat(20_000) + ENV_CLOSE);
    expect(many.status).toBe(500);
    expect(many.body).toContain('EBMS:0009');
    expect(many.body).toContain('more than 10000 elements');
    const attrs = Array.from({ length: 100 }, (_, i) => ` a${i}="v"`).join('');
    const wide = await post(as4, `${ENV_OPEN}<x:e${attrs}/>${ENV_CLOSE}`);
    expect(wide.body).toContain('EBMS:0009');
    expect(wide.body).toContain('more than 64 attributes on one element');
    expect(await messagesAtC3(net)).toBe(before);
  });

  it('bounds the SOAP root part of a multipart message by the same limit', async () => {
    const before = await messagesAtC3(net);
    const boundary = 'b0undary';
    const envelope = ENV_OPEN + '<x:pad>' + 'p'.repeat(1_100_000) + '</x:pad>' + ENV_CLOSE;
    // Below the 1 MiB spool threshold of MIME parts, yet above the envelope limit once the padding is counted.
    const body = `--${boundary}\r\nContent-Type: application/soap+xml; charset=UTF-8\r\nContent-ID: <root@x>\r\n\r\n${envelope}\r\n--${boundary}--\r\n`;
    const answer = await post(
      as4,
      body,
      `multipart/related; boundary=${boundary}; type="application/soap+xml"; start="<root@x>"`,
    );
    expect(answer.status).toBeGreaterThanOrEqual(400);
    expect(answer.body).toMatch(/EBMS:0004|EBMS:0007/);
    expect(await messagesAtC3(net)).toBe(before);
  });

  it('then receives a valid message from C2', async () => {
    const before = await messagesAtC3(net);
    await sendValidMessage(net);
    expect(await messagesAtC3(net)).toBe(before + 1);
  }, 60_000);
});
