import { spawnSync } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { packUserMessage, type UserMessage } from '../../src/as4/index.js';
import { loadSigningIdentity } from '../../src/pki/index.js';
import { sharedTestPki } from '../helpers/pki.js';

const root = fileURLToPath(new URL('../..', import.meta.url));

/** Run the real CLI (bin/qerds.js) as a user would. */
function qerds(...args: string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [join(root, 'bin/qerds.js'), ...args], { cwd: root, encoding: 'utf8' });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

// Each run starts the CLI through tsx (seconds on a loaded 2-core machine): generous per-test time.
describe('qerds verify (CLI) on an AS4 capture: signed, compressed, encrypted UserMessage as an HTTP dump', { timeout: 120_000 }, () => {
  const dir = mkdtempSync(join(tmpdir(), 'qerds-cli-as4-'));
  const pki = sharedTestPki();
  const trust = ['--trust', pki.caCert, '--trust', pki.caCrl];
  const decrypt = ['--decrypt-key', pki.ap('c3').encKey, '--decrypt-cert', pki.ap('c3').encCert];
  let capture: string;
  let tampered: string;

  beforeAll(() => {
    const message: UserMessage = {
      messageId: 'cli-capture-1@qerds-ap.test',
      timestamp: new Date(),
      from: { partyId: 'urn:qerds-ap:test:c2', role: 'http://docs.oasis-open.org/ebxml-msg/ebms/v3.0/ns/core/200704/initiator' },
      to: { partyId: 'urn:qerds-ap:test:c3', role: 'http://docs.oasis-open.org/ebxml-msg/ebms/v3.0/ns/core/200704/responder' },
      collaboration: { service: 'urn:qerds-ap:service:erds', action: 'Dispatch', conversationId: 'cli-capture-1' },
      messageProperties: [],
      payloads: [{ href: 'cid:part-1@test', mimeType: 'application/xml', properties: [] }],
    };
    const packed = packUserMessage({
      message,
      attachments: [{ contentId: 'part-1@test', contentType: 'application/xml', body: Buffer.from('<Invoice>captured</Invoice>') }],
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

  it('VALID and exit 0 with the trust anchors and the decryption key; the report names the message and its payload', () => {
    const r = qerds('verify', capture, ...trust, ...decrypt, '--expect-cert', pki.ap('c2').sealCert);
    expect(r.stderr).toBe('');
    expect(r.status, r.stdout).toBe(0);
    expect(r.stdout).toContain('UserMessage cli-capture-1@qerds-ap.test');
    expect(r.stdout).toMatch(/VALID/);
    expect(r.stdout).not.toMatch(/INVALID/);
  });

  it('--json: the report as data, payload compressed and encrypted', () => {
    const r = qerds('verify', capture, ...trust, ...decrypt, '--json');
    expect(r.status, r.stdout).toBe(0);
    const report = JSON.parse(r.stdout) as { verdict: string; messageType: string; payloads: Array<{ compressed: boolean; encrypted: boolean }> };
    expect(report.verdict).toBe('VALID');
    expect(report.messageType).toBe('UserMessage');
    expect(report.payloads).toEqual([expect.objectContaining({ compressed: true, encrypted: true })]);
  });

  it('INVALID and exit 1: a tampered header, another expected signer, or encrypted payloads without the key', () => {
    const bad = qerds('verify', tampered, ...trust, ...decrypt);
    expect(bad.status).toBe(1);
    expect(bad.stdout).toMatch(/INVALID/);
    const other = qerds('verify', capture, ...trust, ...decrypt, '--expect-cert', pki.ap('c3').sealCert, '--json');
    expect(other.status).toBe(1);
    expect((JSON.parse(other.stdout) as { verdict: string }).verdict).toBe('INVALID');
    const noKey = qerds('verify', capture, ...trust, '--json');
    expect(noKey.status).toBe(1);
    expect((JSON.parse(noKey.stdout) as { verdict: string }).verdict).toBe('INVALID');
  });
});
