import { X509Certificate } from 'node:crypto';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { verifyAs4Capture, type UserMessage } from '../../src/as4/index.js';
import { packUserMessage } from '../../src/as4/message/user-message-pack.js';
import { parseEnvelope } from '../../src/as4/message/envelope-parse.js';
import { loadSigningIdentity, loadTrustStore } from '../../src/pki/index.js';
import { sharedTestPki } from '../helpers/pki.js';
import { qerdsInProcess } from '../helpers/cli.js';

/** `qerds <args>` in-process (test/helpers/cli.ts); the real launch of `qerds verify` is in verify-command.test.ts. */
const qerds = (...args: string[]) => qerdsInProcess(args);

// Each run starts the CLI through tsx (seconds on a loaded 2-core machine): generous per-test time.
describe(
  'qerds verify (CLI) on an AS4 capture: signed, compressed, encrypted UserMessage as an HTTP dump',
  { timeout: 120_000 },
  () => {
    const dir = mkdtempSync(join(tmpdir(), 'qerds-cli-as4-'));
    const pki = sharedTestPki();
    const trust = ['--trust', pki.caCert, '--trust', pki.caCrl];
    const decrypt = ['--decrypt-key', pki.ap('c3').encKey, '--decrypt-cert', pki.ap('c3').encCert];
    let capture: string;
    let tampered: string;

    beforeAll(async () => {
      const message: UserMessage = {
        messageId: 'cli-capture-1@qerds-ap.test',
        timestamp: new Date(),
        from: {
          partyId: 'urn:qerds-ap:test:c2',
          role: 'http://docs.oasis-open.org/ebxml-msg/ebms/v3.0/ns/core/200704/initiator',
        },
        to: {
          partyId: 'urn:qerds-ap:test:c3',
          role: 'http://docs.oasis-open.org/ebxml-msg/ebms/v3.0/ns/core/200704/responder',
        },
        collaboration: {
          service: 'urn:qerds-ap:service:erds',
          action: 'Dispatch',
          conversationId: 'cli-capture-1',
        },
        messageProperties: [],
        payloads: [{ href: 'cid:part-1@test', mimeType: 'application/xml', properties: [] }],
      };
      const packed = packUserMessage({
        message,
        attachments: [
          {
            contentId: 'part-1@test',
            contentType: 'application/xml',
            body: Buffer.from('<Invoice>captured</Invoice>'),
          },
        ],
        identity: loadSigningIdentity(pki.ap('c2').sealCert, pki.ap('c2').sealKey),
        compress: true,
        encryptFor: new X509Certificate(readFileSync(pki.ap('c3').encCert)),
      });
      const head = `POST /as4 HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: ${packed.contentType}\r\nContent-Length: ${packed.body.length}\r\n\r\n`;
      capture = join(dir, 'request.http');
      writeFileSync(capture, Buffer.concat([Buffer.from(head, 'latin1'), packed.body]));
      // One character of the signed ebMS header changed: the Messaging digest no longer matches.
      const bytes = readFileSync(capture);
      const at = bytes.indexOf('cli-capture-1@qerds-ap.test');
      bytes[at] = 'C'.charCodeAt(0);
      tampered = join(dir, 'tampered.http');
      writeFileSync(tampered, bytes);
    });

    it('VALID and exit 0 with the trust anchors and the decryption key; the report names the message and its payload', async () => {
      const r = await qerds('verify', capture, ...trust, ...decrypt, '--expect-cert', pki.ap('c2').sealCert);
      expect(r.stderr).toBe('');
      expect(r.status, r.stdout).toBe(0);
      expect(r.stdout).toContain('UserMessage cli-capture-1@qerds-ap.test');
      expect(r.stdout).toMatch(/VALID/);
      expect(r.stdout).not.toMatch(/INVALID/);
    });

    it('--json: the report as data, payload compressed and encrypted', async () => {
      const r = await qerds('verify', capture, ...trust, ...decrypt, '--json');
      expect(r.status, r.stdout).toBe(0);
      const report = JSON.parse(r.stdout) as {
        verdict: string;
        messageType: string;
        payloads: Array<{ compressed: boolean; encrypted: boolean }>;
      };
      expect(report.verdict).toBe('VALID');
      expect(report.messageType).toBe('UserMessage');
      expect(report.payloads).toEqual([expect.objectContaining({ compressed: true, encrypted: true })]);
    });

    it('INVALID and exit 1: a tampered header, another expected signer', async () => {
      const bad = await qerds('verify', tampered, ...trust, ...decrypt);
      expect(bad.status).toBe(1);
      expect(bad.stdout).toMatch(/INVALID/);
      const other = await qerds(
        'verify',
        capture,
        ...trust,
        ...decrypt,
        '--expect-cert',
        pki.ap('c3').sealCert,
        '--json',
      );
      expect(other.status).toBe(1);
      expect((JSON.parse(other.stdout) as { verdict: string }).verdict).toBe('INVALID');
    });

    it('encrypted payload without the key: not checked (INDETERMINATE, exit 1), never "digest does not match" or "not signed"', async () => {
      const noKey = await qerds('verify', capture, ...trust, '--json');
      expect(noKey.status).toBe(1);
      const report = JSON.parse(noKey.stdout) as {
        kind: string;
        verdict: string;
        findings: { code: string }[];
      };
      expect(report).toMatchObject({ kind: 'as4-capture', verdict: 'INDETERMINATE' });
      const codes = report.findings.map((f) => f.code);
      expect(codes).toContain('AS4_ATTACHMENT_NOT_CHECKED');
      expect(codes).not.toContain('AS4_SIG_DIGEST_MISMATCH');
      expect(codes).not.toContain('AS4_SIG_NOT_COVERED');
    });
  },
);

const phase4 = fileURLToPath(new URL('../fixtures/as4/foreign/phase4/', import.meta.url));
const p4 = (name: string) => readFileSync(join(phase4, name));
const p4trust = (name: string) => loadTrustStore([join(phase4, name)]);

/** The dump with its body chunked for real (RFC 9112 §7.1), in chunks of `size` octets. */
function rechunk(dump: Buffer, size: number): Buffer {
  const split = dump.indexOf('\r\n\r\n') >= 0 ? dump.indexOf('\r\n\r\n') + 4 : dump.indexOf('\n\n') + 2;
  const body = dump.subarray(split);
  const parts: Buffer[] = [dump.subarray(0, split)];
  for (let i = 0; i < body.length; i += size) {
    const chunk = body.subarray(i, i + size);
    parts.push(Buffer.from(`${chunk.length.toString(16)}\r\n`), chunk, Buffer.from('\r\n'));
  }
  parts.push(Buffer.from('0\r\n\r\n'));
  return Buffer.concat(parts);
}

describe('AS4 captures made by phase4 (Peppol): read and verified as they are stored', () => {
  it('receipts of phase4 and Governikus, stored de-chunked under "Transfer-Encoding: chunked": VALID; chunked for real: VALID too', async () => {
    for (const [file, cert] of [
      ['helger.as4in', 'helger-pop000306-2023.cert.pem'],
      ['governikus.as4in', 'governikus-pop000260.cert.pem'],
    ] as const) {
      const r = verifyAs4Capture(p4(file), { trust: p4trust(cert), at: new Date('2022-03-07T17:45:00Z') });
      expect(r.verdict, `${file}: ${JSON.stringify(r.findings)}`).toBe('VALID');
      expect(r.messageType).toBe('Receipt');
      expect(r.findings.map((f) => f.code)).toContain('AS4_CAPTURE_DECHUNKED');
      const chunked = verifyAs4Capture(rechunk(p4(file), 1000), {
        trust: p4trust(cert),
        at: new Date('2022-03-07T17:45:00Z'),
      });
      expect(chunked.verdict, file).toBe('VALID');
      expect(chunked.findings.map((f) => f.code)).not.toContain('AS4_CAPTURE_DECHUNKED');
    }
  });

  it('one character of the signed receipt header changed: INVALID, the Messaging digest does not match', async () => {
    const bytes = p4('helger.as4in');
    const at = bytes.indexOf('1384cf77-2de9');
    expect(at).toBeGreaterThan(0);
    bytes[at] = '2'.charCodeAt(0);
    const r = verifyAs4Capture(bytes, {
      trust: p4trust('helger-pop000306-2023.cert.pem'),
      at: new Date('2022-03-07T17:45:00Z'),
    });
    expect(r.verdict).toBe('INVALID');
    expect(r.findings.map((f) => f.code)).toContain('AS4_SIG_DIGEST_MISMATCH');
  });

  it('a compressed and encrypted UserMessage without the recipient key: INDETERMINATE (attachment not checked), the header signature verified', async () => {
    const r = verifyAs4Capture(p4('dump-raw.as4out'), {
      trust: p4trust('helger-pop000306-2027.cert.pem'),
      at: new Date('2026-01-29T15:40:00Z'),
    });
    expect(r.verdict).toBe('INDETERMINATE');
    expect(r.messageType).toBe('UserMessage');
    expect(r.findings.filter((f) => f.severity === 'error').map((f) => f.code)).toEqual([
      'AS4_ATTACHMENT_NOT_CHECKED',
    ]);
    expect(r.signature?.signer?.subject).toBe(
      'C=AT, O=Helger IT Consulting GmbH, OU=PEPPOL TEST AP, CN=POP000306',
    );
  });
});

describe('a Receipt that copies the acknowledged message', () => {
  const eb = 'http://docs.oasis-open.org/ebxml-msg/ebms/v3.0/ns/core/200704/';
  const envelope = (receiptContent: string, body = '') =>
    `<S:Envelope xmlns:S="http://www.w3.org/2003/05/soap-envelope" xmlns:eb="${eb}"><S:Header><eb:Messaging S:mustUnderstand="true"><eb:SignalMessage>` +
    `<eb:MessageInfo><eb:Timestamp>2024-01-01T00:00:00Z</eb:Timestamp><eb:MessageId>r1@test</eb:MessageId><eb:RefToMessageId>m1@test</eb:RefToMessageId></eb:MessageInfo>` +
    `<eb:Receipt>${receiptContent}</eb:Receipt></eb:SignalMessage></eb:Messaging></S:Header><S:Body>${body}</S:Body></S:Envelope>`;
  const copy = `<eb:Messaging><eb:UserMessage><eb:MessageInfo><eb:Timestamp>2024-01-01T00:00:00Z</eb:Timestamp><eb:MessageId>m1@test</eb:MessageId></eb:MessageInfo></eb:UserMessage></eb:Messaging>`;

  it('an eb:Messaging inside eb:Receipt is receipt content, not a second Messaging; one in the Body still is', async () => {
    expect(parseEnvelope(envelope(copy))).toMatchObject({
      kind: 'receipt',
      receipt: { refToMessageId: 'm1@test' },
    });
    expect(() => parseEnvelope(envelope('', copy))).toThrow(/more than once/);
  });
});
