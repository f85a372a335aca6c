import { execFileSync, spawn } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAs4Transport } from '../../src/access-point/as4-binding.js';
import { loadAs4Security } from '../../src/access-point/as4-security.js';
import { sendUserMessage } from '../../src/as4/index.js';
import {
  createAs4TlsClient,
  spkiPin,
  type As4HttpClient,
  devPkiLayout,
  loadSigningIdentity,
  revokeCertificate,
} from '../../src/pki/index.js';
import {
  RECIPIENT,
  SENDER,
  startTwoAccessPoints,
  type TwoAccessPoints,
} from '../../src/harness/two-access-points.js';
import { parseParticipantId } from '../../src/core/index.js';
import { waitFor } from '../helpers/wait.js';
import { accessPointInternals } from '../../src/access-point/internals.js';
import { devTestPki } from '../helpers/pki.js';

/**
 * AS4 between two real APs over HTTPS on loopback: TLS 1.2+ only, mutual TLS with the
 * dev CA, per-peer pinning from the directory. openssl s_client is the independent client.
 */
const work = mkdtempSync(join(tmpdir(), 'qerds-as4tls-'));
const pkiDir = join(work, 'pki');
const dev = devPkiLayout(pkiDir);

/** openssl s_client against `port` (asynchronous: the APs answer from this process); exit status and output. */
function sClient(
  port: number,
  args: string[],
  input = '',
): Promise<{ status: number | null; output: string }> {
  return new Promise((resolve) => {
    const child = spawn(
      'openssl',
      ['s_client', '-connect', `127.0.0.1:${port}`, '-CAfile', dev.caCert, ...args],
      { stdio: ['pipe', 'pipe', 'pipe'] },
    );
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
    child.once('close', (status) => {
      clearTimeout(timer);
      resolve({ status, output });
    });
    // Keep stdin open briefly: s_client closes the connection at EOF, before a late alert or answer arrives.
    child.stdin.write(input);
    setTimeout(() => child.stdin.end(), 1_000);
  });
}

/** A REST call over HTTPS (the dev CA trusted, no client certificate: the API key authenticates). */
async function apiTls<T>(
  http: As4HttpClient,
  base: string,
  key: string,
  path: string,
  init: RequestInit = {},
): Promise<T> {
  const request = new Request(base + path, init);
  const body = init.body ? Buffer.from(await request.arrayBuffer()) : undefined;
  const headers: Record<string, string> = { authorization: `Bearer ${key}` };
  const type = request.headers.get('content-type');
  if (type) headers['content-type'] = type;
  const response = await http(base + path, {
    method: init.method === 'POST' ? 'POST' : 'GET',
    headers,
    ...(body ? { body } : {}),
    maxResponseBytes: 1_048_576,
  });
  const json = JSON.parse(response.body?.toString('utf8') ?? 'null') as T;
  if (response.status >= 300) throw new Error(`${path}: HTTP ${response.status} ${JSON.stringify(json)}`);
  return json;
}

async function submit(net: TwoAccessPoints, http: As4HttpClient, text: string): Promise<string> {
  const form = new FormData();
  form.set('metadata', JSON.stringify({ recipient: RECIPIENT.id }));
  form.append('payload', new Blob([text], { type: 'text/plain' }), 'note.txt');
  const { id } = await apiTls<{ id: string }>(http, net.c2.url, SENDER.key, '/api/v1/messages', {
    method: 'POST',
    body: form,
  });
  return id;
}

const portOf = (url: string) => Number(new URL(url).port);

beforeAll(async () => {
  await devTestPki(pkiDir);
}, 60_000);

describe('AS4 over mutual TLS between two APs (C3 requires client certificates, each AP pinned in the directory)', () => {
  let net: TwoAccessPoints;
  const noCert = () => createAs4TlsClient({ ca: [readFileSync(dev.caCert)] });
  beforeAll(async () => {
    net = await startTwoAccessPoints({
      outDir: join(work, 'mtls'),
      pkiDir,
      tls: { clientCerts: (name) => (name === 'c3' ? 'require' : 'request') },
    });
  }, 60_000);
  afterAll(() => net?.stop());

  it('relays C2 → C3 over HTTPS with client certificates; the receipt comes back, C3 stores the message and returns its evidence', async () => {
    expect(net.c2.url).toMatch(/^https:/);
    const client = noCert();
    try {
      const id = await submit(net, client.forPeer(), 'over mutual TLS\n');
      const relayed = await waitFor(
        async () => {
          const m = await accessPointInternals(net.c2).context.store.getMessage(id);
          return m && !['submitted', 'relaying'].includes(m.state) ? m : undefined;
        },
        { timeoutMs: 30_000, what: 'the relay receipt' },
      );
      expect(relayed.state).not.toBe('failed');
      expect(relayed.attempts).toBe(1);
      const atC3 = await accessPointInternals(net.c3).context.store.findMessageByEbmsId(
        relayed.ebmsMessageId,
        'recipient-ap',
      );
      expect(atC3?.recipient).toEqual(parseParticipantId(RECIPIENT.id));
      // C3's RelayAcceptance comes back to C2 over TLS too, C3 presenting its pinned client certificate.
      const events = await waitFor(
        async () => {
          const names = (await accessPointInternals(net.c2).context.store.listEvidence(id)).map(
            (e) => e.event,
          );
          return names.includes('RelayAcceptance') ? names : undefined;
        },
        { timeoutMs: 30_000, what: 'RelayAcceptance returned to C2' },
      );
      expect(events).toContain('SubmissionAcceptance');
    } finally {
      client.close();
    }
  }, 40_000);

  it('a client without a certificate is refused in the TLS handshake (our client and openssl s_client)', async () => {
    const client = noCert();
    try {
      await expect(
        client.forPeer()(`${net.c3.url}/healthz`, { method: 'GET', headers: {}, maxResponseBytes: 65_536 }),
      ).rejects.toThrow(/certificate required|handshake|socket hang up|ECONNRESET|alert/i);
    } finally {
      client.close();
    }
    const tls12 = await sClient(portOf(net.c3.url), ['-tls1_2'], '');
    expect(tls12.status).not.toBe(0);
    expect(tls12.output).toMatch(/alert handshake failure/);
    const tls13 = await sClient(portOf(net.c3.url), ['-quiet'], 'GET /healthz HTTP/1.0\r\n\r\n');
    expect(tls13.output).toMatch(/alert certificate required/);
    expect(tls13.output).not.toMatch(/HTTP\/1\.1 200/);
  });

  it('openssl s_client with the dev CA and the C2 TLS certificate: handshake verified (TLS 1.3 and 1.2 ECDHE-GCM), /healthz answers', async () => {
    const withCert = ['-verify_return_error', '-cert', dev.ap('c2').tlsCert, '-key', dev.ap('c2').tlsKey];
    const tls13 = await sClient(portOf(net.c3.url), withCert, 'GET /healthz HTTP/1.0\r\n\r\n');
    expect(tls13.status).toBe(0);
    expect(tls13.output).toMatch(/Verify return code: 0 \(ok\)/);
    expect(tls13.output).toMatch(/New, TLSv1\.3, Cipher is TLS_AES/);
    expect(tls13.output).toMatch(/HTTP\/1\.1 200/);
    const tls12 = await sClient(
      portOf(net.c3.url),
      [...withCert, '-tls1_2'],
      'GET /healthz HTTP/1.0\r\n\r\n',
    );
    expect(tls12.output).toMatch(/New, TLSv1\.2, Cipher is ECDHE-RSA-AES(128|256)-GCM-SHA(256|384)/);
    expect(tls12.output).toMatch(/HTTP\/1\.1 200/);
  });

  it('TLS 1.1 and CBC suites are refused by the server (openssl s_client -tls1_1, -cipher AES128-SHA)', async () => {
    const old = await sClient(portOf(net.c2.url), ['-tls1_1', '-cipher', 'DEFAULT@SECLEVEL=0']);
    expect(old.status).not.toBe(0);
    expect(old.output).toMatch(/alert protocol version/);
    const cbc = await sClient(portOf(net.c2.url), ['-tls1_2', '-cipher', 'AES128-SHA']);
    expect(cbc.status).not.toBe(0);
    expect(cbc.output).toMatch(/alert handshake failure/);
  });

  it('C3 refuses (EBMS:0101) a correctly signed message whose TLS client certificate is not the one pinned for the sender AP', async () => {
    // Same e-seal, same message shape as C2 sends, but the connection presents C3's own TLS certificate (valid, same CA).
    const wrongClient = createAs4TlsClient({
      ca: [readFileSync(dev.caCert)],
      cert: readFileSync(dev.ap('c3').tlsCert),
      key: readFileSync(dev.ap('c3').tlsKey),
    });
    try {
      const transport = createAs4Transport({
        self: { id: 'urn:qerds-ap:ap:c2', name: 'C2' },
        identity: accessPointInternals(net.c2).identity,
        trust: accessPointInternals(net.c2).trust,
        timeoutMs: 10_000,
        as4: loadAs4Security(net.c2.config, accessPointInternals(net.c2).identity),
        directory: accessPointInternals(net.c2).context.directory,
        tls: wrongClient,
      });
      const ebmsMessageId = `tls-wrong-client-${Date.now()}@qerds-ap`;
      const sent = transport.sendMessage({
        endpoint: `${net.c3.url}/as4`,
        ebmsMessageId,
        sender: parseParticipantId(SENDER.id),
        recipient: parseParticipantId(RECIPIENT.id),
        submittedAt: new Date(),
        parts: [
          { partId: 'p1', contentType: 'text/plain', body: Buffer.from('from the wrong connection\n') },
        ],
      });
      await expect(sent).rejects.toMatchObject({
        code: 'AS4_EBMS_0101',
        message: expect.stringMatching(/TLS client certificate .* matches none of the 1 pin/),
      });
      expect(
        await accessPointInternals(net.c3).context.store.findMessageByEbmsId(ebmsMessageId, 'recipient-ap'),
      ).toBeUndefined();
    } finally {
      wrongClient.close();
    }
  }, 20_000);
});

describe('per-peer pinning: a server with a valid but unpinned certificate', () => {
  let net: TwoAccessPoints;
  beforeAll(async () => {
    // The directory pins C2's TLS certificate for C3: C3's own certificate chains to the dev CA but is not the pinned one.
    net = await startTwoAccessPoints({
      outDir: join(work, 'unpinned'),
      pkiDir,
      tls: { clientCerts: () => 'request', pinnedCertificate: () => dev.ap('c2').tlsCert },
      overrides: { relay: { maxAttempts: 2, baseDelayMs: 100, maxDelayMs: 200 } },
    });
  }, 60_000);
  afterAll(() => net?.stop());

  it('sendUserMessage names the refusal: AS4_TLS_PIN_MISMATCH with the certificate and its SPKI pin, retryable', async () => {
    const client = createAs4TlsClient({ ca: [readFileSync(dev.caCert)] });
    try {
      const seal = loadSigningIdentity(dev.ap('c2').sealCert, dev.ap('c2').sealKey);
      const c3Tls = new X509Certificate(readFileSync(dev.ap('c3').tlsCert));
      const err = await sendUserMessage({
        endpoint: `${net.c3.url}/as4`,
        message: {
          messageId: 'pin@qerds',
          timestamp: new Date(),
          from: { partyId: 'a', role: 'r' },
          to: { partyId: 'b', role: 'r' },
          collaboration: { service: 's', action: 'a', conversationId: 'c' },
          messageProperties: [],
          payloads: [],
        },
        attachments: [],
        identity: seal,
        http: client.forPeer({ certificates: [new X509Certificate(readFileSync(dev.ap('c2').tlsCert))] }),
      }).catch((e: unknown) => e);
      expect(err).toMatchObject({ code: 'AS4_TLS_PIN_MISMATCH', details: { retryable: true } });
      expect((err as Error).message).toContain(spkiPin(c3Tls));
      expect((err as Error).message).toMatch(/DEV ONLY AP c3 TLS/);
    } finally {
      client.close();
    }
  });

  it('the relay refuses the server, retries within the budget, then issues RelayFailure naming the pin mismatch', async () => {
    const client = createAs4TlsClient({ ca: [readFileSync(dev.caCert)] });
    try {
      const id = await submit(net, client.forPeer(), 'never to the wrong server\n');
      const failed = await waitFor(
        async () => {
          const m = await accessPointInternals(net.c2).context.store.getMessage(id);
          return m?.state === 'failed' ? m : undefined;
        },
        { timeoutMs: 30_000, what: 'RelayFailure' },
      );
      expect(failed.attempts).toBe(2);
      expect(failed.lastError).toBe('RB09');
      const evidence = await accessPointInternals(net.c2).context.store.listEvidence(id);
      const relayFailure = evidence.find((e) => e.xml.includes('/Event/RelayFailure'));
      expect(relayFailure?.xml).toMatch(
        /AS4_TLS_PIN_MISMATCH: TLS: server 127\.0\.0\.1:\d+ refused: certificate/,
      );
      expect(
        await accessPointInternals(net.c3).context.store.findMessageByEbmsId(
          failed.ebmsMessageId,
          'recipient-ap',
        ),
      ).toBeUndefined();
    } finally {
      client.close();
    }
  }, 40_000);
});

describe('revocation: a peer whose TLS certificate the CA revoked', () => {
  let net: TwoAccessPoints;
  const revokedPki = join(work, 'revoked-pki');
  beforeAll(async () => {
    await devTestPki(revokedPki);
    const layout = devPkiLayout(revokedPki);
    await revokeCertificate(
      layout,
      readFileSync(layout.ap('c3').tlsCert, 'utf8'),
      'keyCompromise',
      new Date(Date.now() - 60_000),
    );
    // C3 still serves it (and it is still pinned): only the CRL of C2's trust store tells.
    net = await startTwoAccessPoints({
      outDir: join(work, 'revoked'),
      pkiDir: revokedPki,
      tls: {},
      overrides: { relay: { maxAttempts: 1 } },
    });
  }, 60_000);
  afterAll(() => net?.stop());

  it('is refused in the handshake (CRL from the trust store): AS4_TLS_HANDSHAKE_FAILED, RelayFailure', async () => {
    const client = createAs4TlsClient({ ca: [readFileSync(devPkiLayout(revokedPki).caCert)] });
    try {
      const id = await submit(net, client.forPeer(), 'not to a revoked server\n');
      const failed = await waitFor(
        async () => {
          const m = await accessPointInternals(net.c2).context.store.getMessage(id);
          return m?.state === 'failed' ? m : undefined;
        },
        { timeoutMs: 30_000, what: 'RelayFailure' },
      );
      const evidence = await accessPointInternals(net.c2).context.store.listEvidence(id);
      expect(evidence.find((e) => e.xml.includes('/Event/RelayFailure'))?.xml).toMatch(
        /AS4_TLS_HANDSHAKE_FAILED: TLS: server 127\.0\.0\.1:\d+ refused: certificate revoked \(CERT_REVOKED\)/,
      );
      expect(
        await accessPointInternals(net.c3).context.store.findMessageByEbmsId(
          failed.ebmsMessageId,
          'recipient-ap',
        ),
      ).toBeUndefined();
    } finally {
      client.close();
    }
  }, 40_000);
});

describe('SPKI pins', () => {
  it('spkiPin equals openssl: sha256 of the DER SubjectPublicKeyInfo, base64', () => {
    const pubkey = execFileSync('openssl', ['x509', '-in', dev.ap('c3').tlsCert, '-noout', '-pubkey']);
    const der = execFileSync('openssl', ['pkey', '-pubin', '-outform', 'DER'], { input: pubkey });
    const digest = execFileSync('openssl', ['dgst', '-sha256', '-binary'], { input: der }).toString('base64');
    expect(spkiPin(new X509Certificate(readFileSync(dev.ap('c3').tlsCert)))).toBe(`sha256/${digest}`);
  });
});
