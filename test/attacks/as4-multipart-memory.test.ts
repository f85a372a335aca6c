import { createHash } from 'node:crypto';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { decodeMultipartStreaming } from '../../src/as4/message/multipart-stream.js';
import { readAll } from '../../src/as4/message/streamed-body.js';
import { QerdsError } from '../../src/core/index.js';

/**
 * Issue 13, finding 8 follow-up: what an unauthenticated peer can make /as4 hold in memory through MIME. Attachments
 * stay in memory only while all of them together fit the spool threshold (1 MiB by default), whatever their number;
 * the rest is file-backed as it arrives. The SOAP root part is bounded while it arrives. Asserted structurally (which
 * part is a Buffer, which a file), not by measuring the heap.
 */
const work = mkdtempSync(join(tmpdir(), 'qerds-attack-mime-memory-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

const BOUNDARY = 'MIMEBoundary_memory';
const CONTENT_TYPE = `multipart/related; boundary=${BOUNDARY}; type="application/soap+xml"; start="<root@x>"`;
const ENVELOPE = '<env:Envelope xmlns:env="http://www.w3.org/2003/05/soap-envelope"/>';
const head = (cid: string, type = 'application/octet-stream') =>
  Buffer.from(
    `--${BOUNDARY}\r\nContent-Type: ${type}\r\nContent-Transfer-Encoding: binary\r\nContent-ID: <${cid}>\r\n\r\n`,
  );
const rootPart = () =>
  Buffer.concat([head('root@x', 'application/soap+xml'), Buffer.from(ENVELOPE), Buffer.from('\r\n')]);
const CLOSE = Buffer.from(`--${BOUNDARY}--\r\n`);

describe('/as4 MIME decoding: memory held per message is bounded', () => {
  it('120 attachments of 60 KiB (7 MiB): at most 1 MiB of them in memory, the others file-backed, every octet intact', async () => {
    const spoolDir = mkdtempSync(join(work, 'many-'));
    const body = (i: number) => Buffer.alloc(60 * 1024, i % 251);
    const decoded = await decodeMultipartStreaming(
      CONTENT_TYPE,
      (async function* () {
        yield rootPart();
        for (let i = 0; i < 120; i++) yield Buffer.concat([head(`p${i}@x`), body(i), Buffer.from('\r\n')]);
        yield CLOSE;
      })(),
      { spoolDir, maxParts: 200 },
    );
    expect(decoded.attachments).toHaveLength(120);
    const inMemory = decoded.attachments.filter((a) => a.stream === undefined);
    const onFile = decoded.attachments.filter((a) => a.stream?.path !== undefined);
    expect(inMemory.length + onFile.length).toBe(120);
    // 1 MiB / 60 KiB: 17 parts fit; the 18th goes to a file, and so does every later one.
    expect(inMemory.length).toBe(17);
    expect(inMemory.reduce((n, a) => n + a.body.length, 0)).toBeLessThanOrEqual(1_048_576);
    expect(readdirSync(spoolDir)).toHaveLength(103);
    for (const [i, a] of decoded.attachments.entries()) {
      const bytes = a.stream ? await readAll(a.stream.open()) : a.body;
      expect(bytes.equals(body(i)), a.contentId).toBe(true);
    }
  });

  it('an 80 MiB attachment is a file stream (path, size, SHA-256 computed on the way), never a Buffer', async () => {
    const spoolDir = mkdtempSync(join(work, 'big-'));
    const chunk = Buffer.alloc(1_048_576, 0x5a);
    const hash = createHash('sha256');
    for (let i = 0; i < 80; i++) hash.update(chunk);
    const decoded = await decodeMultipartStreaming(
      CONTENT_TYPE,
      (async function* () {
        yield rootPart();
        yield head('big@x');
        for (let i = 0; i < 80; i++) yield chunk;
        yield Buffer.from('\r\n');
        yield CLOSE;
      })(),
      { spoolDir, maxBytes: 100 * 1_048_576 },
    );
    const [big] = decoded.attachments;
    expect(big!.stream).toMatchObject({ size: 80 * 1_048_576, path: expect.stringContaining(spoolDir) });
    expect(big!.stream!.sha256!.toString('hex')).toBe(hash.digest('hex'));
    expect(decoded.envelope).toBe(ENVELOPE);
  }, 120_000);

  it('a SOAP root part over its limit is refused while it arrives, with the error the caller chose, and nothing spooled', async () => {
    const spoolDir = mkdtempSync(join(work, 'root-'));
    let yielded = 0;
    const refused = await decodeMultipartStreaming(
      CONTENT_TYPE,
      (async function* () {
        yield head('root@x', 'application/soap+xml');
        // 50 MiB announced as the envelope, 64 KiB at a time.
        for (let i = 0; i < 800; i++) {
          yielded += 1;
          yield Buffer.alloc(65_536, 0x20);
        }
      })(),
      {
        spoolDir,
        maxRootBytes: 1_048_576,
        rootTooLarge: (limit) =>
          new QerdsError('AS4_MESSAGE_TOO_LARGE', `SOAP envelope exceeds ${limit} bytes`),
      },
    ).catch((e: unknown) => e);
    expect(refused).toMatchObject({
      code: 'AS4_MESSAGE_TOO_LARGE',
      message: 'SOAP envelope exceeds 1048576 bytes',
    });
    expect(yielded).toBeLessThanOrEqual(17);
    expect(readdirSync(spoolDir)).toEqual([]);
  });

  it('parts repeating the root Content-ID are not held as roots: refused as duplicates (EBMS:0007)', async () => {
    const spoolDir = mkdtempSync(join(work, 'dup-'));
    const refused = await decodeMultipartStreaming(
      CONTENT_TYPE,
      (async function* () {
        yield rootPart();
        for (let i = 0; i < 5; i++)
          yield Buffer.concat([
            head('root@x', 'application/soap+xml'),
            Buffer.alloc(600_000, 0x20),
            Buffer.from('\r\n'),
          ]);
        yield CLOSE;
      })(),
      { spoolDir, maxRootBytes: 1_048_576 },
    ).catch((e: unknown) => e);
    expect(refused).toMatchObject({
      code: 'AS4_EBMS_0007',
      message: expect.stringContaining('duplicate Content-ID'),
    });
    // The repeats went the attachments' way: past the 1 MiB budget, to files.
    expect(readdirSync(spoolDir).length).toBeGreaterThan(0);
  });
});
