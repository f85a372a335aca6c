import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { sendUserMessage, streamedAttachment, type Attachment } from '../../src/as4/index.js';
import { encodeMultipart } from '../../src/as4/message/multipart.js';
import { decodeMultipart, decodeMultipartStreaming } from '../../src/as4/message/multipart-stream.js';
import { decryptAttachments } from '../../src/as4/security/attachment-encryption.js';
import { fileBody, readAll } from '../../src/as4/message/streamed-body.js';
import { packUserMessageStreaming } from '../../src/as4/message/user-message-pack.js';
import { parseXml as parseAs4Xml } from '../../src/as4/message/xml-util.js';
import { verifyEnvelope } from '../../src/as4/security/ws-security-verify.js';
import type { ReceivedUserMessage } from '../../src/as4/model/types.js';
import { sharedTestPki } from '../helpers/pki.js';
import { writeRandomFile } from '../helpers/large-payload.js';
import { waitFor } from '../helpers/wait.js';
import {
  anchorTrustStore,
  errorCodeOf,
  postAs4,
  sampleMessage,
  sealIdentity,
  startAs4Server,
  type As4TestServer,
} from './as4-helpers.js';

const pki = sharedTestPki();
const c2 = sealIdentity(pki, 'c2');
const c3 = sealIdentity(pki, 'c3');
const trust = anchorTrustStore(pki.caCert);
const work = mkdtempSync(join(tmpdir(), 'qerds-as4-stream-'));
const spoolDir = join(work, 'spool');
const PAYLOAD_BYTES = 3 * 1024 * 1024 + 17;
let payloadFile: string;
let payloadSha256: string;
let server: As4TestServer;
/** What onUserMessage saw of each streamed attachment, read while the handler still held its files. */
let seen: { contentId: string; streamed: boolean; sha256: string; size: number }[] = [];

const streamedPayload = (): Attachment[] => [
  streamedAttachment(
    'big@qerds',
    'application/octet-stream',
    fileBody(payloadFile, statSync(payloadFile).size),
  ),
];
/** The handler removes its scratch directory right after it answered. */
const spoolEmpty = () =>
  waitFor(() => (readdirSync(spoolDir).length === 0 ? true : undefined), {
    timeoutMs: 5000,
    what: 'an empty spool directory',
  });
const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');

beforeAll(async () => {
  rmSync(spoolDir, { recursive: true, force: true });
  await import('node:fs/promises').then((fs) => fs.mkdir(spoolDir));
  payloadFile = join(work, 'payload.bin');
  payloadSha256 = await writeRandomFile(payloadFile, PAYLOAD_BYTES);
  server = await startAs4Server({
    identity: c3,
    trust,
    spoolDir,
    spoolThresholdBytes: 64 * 1024,
    onUserMessage: async (r: ReceivedUserMessage) => {
      for (const a of r.attachments) {
        const bytes = a.stream ? await readAll(a.stream.open()) : a.body;
        seen.push({
          contentId: a.contentId,
          streamed: a.stream !== undefined,
          sha256: sha256(bytes),
          size: bytes.length,
        });
      }
    },
  });
});
afterAll(async () => {
  await server.close();
  rmSync(work, { recursive: true, force: true });
});
beforeEach(() => {
  seen = [];
});

describe('AS4 with streamed attachments (large payloads)', () => {
  it('decodes a message split into chunks of any size exactly as the in-memory decoder does, spooling big parts', async () => {
    const small: Attachment = {
      contentId: 'small@qerds',
      contentType: 'text/plain',
      body: Buffer.from('hello\r\n--not-a-boundary\r\n'),
    };
    const big: Attachment = {
      contentId: 'big@qerds',
      contentType: 'application/octet-stream',
      body: randomBytes(20_000),
    };
    const mime = encodeMultipart('<env:Envelope xmlns:env="http://www.w3.org/2003/05/soap-envelope"/>', [
      small,
      big,
    ]);
    const expected = decodeMultipart(mime.contentType, mime.body);
    for (const size of [1, 7, 1000, 65_536, mime.body.length]) {
      const chunks = async function* () {
        for (let i = 0; i < mime.body.length; i += size) yield mime.body.subarray(i, i + size);
      };
      const dir = mkdtempSync(join(work, 'chunks-'));
      const decoded = await decodeMultipartStreaming(mime.contentType, chunks(), {
        spoolDir: dir,
        spoolThresholdBytes: 4096,
      });
      expect(decoded.envelope).toBe(expected.envelope);
      expect(decoded.attachments.map((a) => [a.contentId, a.contentType, a.stream !== undefined])).toEqual([
        ['small@qerds', 'text/plain', false],
        ['big@qerds', 'application/octet-stream', true],
      ]);
      expect(decoded.attachments[0]!.body.equals(small.body)).toBe(true);
      expect((await readAll(decoded.attachments[1]!.stream!.open())).equals(big.body)).toBe(true);
      expect(decoded.attachments[1]!.stream!.sha256!.toString('hex')).toBe(sha256(big.body));
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('refuses a streamed message without its close delimiter (EBMS:0007) and leaves no file behind', async () => {
    const mime = encodeMultipart('<e/>', [
      { contentId: 'a@q', contentType: 'application/octet-stream', body: randomBytes(100_000) },
    ]);
    const dir = mkdtempSync(join(work, 'cut-'));
    const cut = mime.body.subarray(0, mime.body.length - 60);
    await expect(
      decodeMultipartStreaming(
        mime.contentType,
        (async function* () {
          yield cut;
        })(),
        { spoolDir: dir, spoolThresholdBytes: 1024 },
      ),
    ).rejects.toMatchObject({ code: 'AS4_EBMS_0007' });
    rmSync(dir, { recursive: true, force: true });
  });

  it('sends a 3 MiB file GZIP-compressed, signed and encrypted as a stream; the receiver gets the same bytes from a spooled file', async () => {
    const attachments = streamedPayload();
    const result = await sendUserMessage({
      endpoint: server.endpoint,
      message: sampleMessage('m-stream@qerds', attachments),
      attachments,
      identity: c2,
      receiverCertificate: c3.certificate,
      trust,
      compress: true,
      encryptFor: c3.certificate,
    });
    expect(result.receipt.refToMessageId).toBe('m-stream@qerds');
    expect(seen).toEqual([
      { contentId: 'big@qerds', streamed: true, sha256: payloadSha256, size: PAYLOAD_BYTES },
    ]);
    // The handler removed every spooled file (ciphertext, plaintext, inflated) once it answered.
    await spoolEmpty();
  });

  it('produces what the in-memory decoder, decrypter and verifier accept (one wire format for both paths)', async () => {
    const attachments = streamedPayload();
    const scratch = mkdtempSync(join(work, 'pack-'));
    const packed = await packUserMessageStreaming({
      message: sampleMessage('m-cross@qerds', attachments),
      attachments,
      identity: c2,
      encryptFor: c3.certificate,
      spoolDir: scratch,
    });
    const wire = await readAll(packed.body.open());
    expect(wire.length).toBe(packed.body.size);
    const decoded = decodeMultipart(packed.contentType, wire, { maxBytes: 64 * 1024 * 1024 });
    const doc = parseAs4Xml(decoded.envelope);
    const decrypted = decryptAttachments(doc, decoded.attachments, [c3]);
    expect(decrypted.encrypted).toEqual(['big@qerds']);
    expect(sha256(decrypted.attachments[0]!.body)).toBe(payloadSha256);
    const verification = verifyEnvelope(doc, decrypted.attachments, { trust });
    expect(verification.valid).toBe(true);
    expect(verification.signedParts).toContain('cid:big@qerds');
    rmSync(scratch, { recursive: true, force: true });
  });

  it('answers EBMS:0102 when one ciphertext byte changed, never hands out the plaintext, and keeps no file', async () => {
    const attachments = streamedPayload();
    const scratch = mkdtempSync(join(work, 'tamper-'));
    const packed = await packUserMessageStreaming({
      message: sampleMessage('m-tamper@qerds', attachments),
      attachments,
      identity: c2,
      encryptFor: c3.certificate,
      spoolDir: scratch,
    });
    const wire = await readAll(packed.body.open());
    const at = wire.length - 1024 * 1024; // inside the attachment's ciphertext
    wire[at] = wire[at]! ^ 0x01;
    const { signal } = await postAs4(server.endpoint, packed.contentType, wire);
    expect(errorCodeOf(signal)).toBe('EBMS:0102');
    expect(seen).toEqual([]);
    await spoolEmpty();
    rmSync(scratch, { recursive: true, force: true });
  });

  it('answers EBMS:0101 when a byte of an unencrypted streamed attachment changed (digest checked from the file)', async () => {
    const attachments = streamedPayload();
    const scratch = mkdtempSync(join(work, 'plain-'));
    const packed = await packUserMessageStreaming({
      message: sampleMessage('m-plain@qerds', attachments),
      attachments,
      identity: c2,
      spoolDir: scratch,
    });
    const wire = await readAll(packed.body.open());
    const at = wire.length - 1024 * 1024;
    wire[at] = wire[at]! ^ 0x01;
    const { signal } = await postAs4(server.endpoint, packed.contentType, wire);
    expect(errorCodeOf(signal)).toBe('EBMS:0101');
    expect(seen).toEqual([]);
    await spoolEmpty();
    rmSync(scratch, { recursive: true, force: true });
  });
});
