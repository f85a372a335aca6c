import { execFileSync } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import { copyFileSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  api,
  RECIPIENT,
  SENDER,
  startTwoAccessPoints,
  type TwoAccessPoints,
} from '../../src/harness/two-access-points.js';
import { createOcspResponder, loadSigningIdentity, type OcspCertStatus } from '../../src/pki/index.js';
import { waitFor } from '../helpers/wait.js';
import { accessPointInternals } from '../../src/access-point/internals.js';
import { devTestPki } from '../helpers/pki.js';
import { claimPort } from '../helpers/ports.js';

/**
 * An AS4 peer whose certificate names an OCSP responder (AIA) is checked with it at reception: good → the
 * message is taken; revoked → EBMS:0101, C2 ends with RelayFailure. The same over the REM SMTP relay binding
 * (a second pair of APs whose directory names smtp:// endpoints): revoked → 554 5.7.1, RelayFailure RB05. C2's seal here is made by openssl with
 * authorityInfoAccess = OCSP;URI:<our responder>; the responder signs as the CA.
 */
const work = mkdtempSync(join(tmpdir(), 'qerds-ocsp-peer-'));
let net: TwoAccessPoints;
let smtpNet: TwoAccessPoints;
let server: Server;
let status: OcspCertStatus = { status: 'good' };

beforeAll(async () => {
  const pki = await devTestPki(join(work, 'pki'), { recipients: [] });
  // Claimed, not port 0: the certificate issued next names the responder's URL (AIA) before it listens.
  const port = await claimPort();
  const dir = mkdtempSync(join(work, 'seal-'));
  writeFileSync(
    join(dir, 'ext.cnf'),
    `[x]\nbasicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature,nonRepudiation\nsubjectKeyIdentifier=hash\nauthorityKeyIdentifier=keyid\nauthorityInfoAccess=OCSP;URI:http://127.0.0.1:${port}/\n`,
  );
  const run = (args: string[]) => execFileSync('openssl', args, { stdio: 'pipe' });
  run(['genpkey', '-algorithm', 'RSA', '-pkeyopt', 'rsa_keygen_bits:2048', '-out', join(dir, 'key.pem')]);
  run([
    'req',
    '-new',
    '-key',
    join(dir, 'key.pem'),
    '-subj',
    '/C=JP/O=Test/organizationIdentifier=urn:qerds-ap:ap:c2/CN=C2 e-seal with OCSP',
    '-out',
    join(dir, 'csr.pem'),
  ]);
  run([
    'x509',
    '-req',
    '-in',
    join(dir, 'csr.pem'),
    '-CA',
    pki.caCert,
    '-CAkey',
    pki.caKey,
    '-CAcreateserial',
    '-CAserial',
    join(dir, 'ca.srl'),
    '-days',
    '30',
    '-sha256',
    '-extfile',
    join(dir, 'ext.cnf'),
    '-extensions',
    'x',
    '-out',
    join(dir, 'cert.pem'),
  ]);
  // C2's seal becomes this certificate (the directory pins the same file).
  copyFileSync(join(dir, 'cert.pem'), pki.ap('c2').sealCert);
  copyFileSync(join(dir, 'key.pem'), pki.ap('c2').sealKey);

  const responder = createOcspResponder({
    issuer: new X509Certificate(readFileSync(pki.caCert)),
    signer: loadSigningIdentity(pki.caCert, pki.caKey),
    statusOf: () => status,
  });
  server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on(
      'end',
      () =>
        void responder
          .respond(Buffer.concat(chunks))
          .then((der) => res.writeHead(200, { 'content-type': 'application/ocsp-response' }).end(der)),
    );
  });
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  net = await startTwoAccessPoints({
    outDir: work,
    pkiDir: pki.dir,
    overrides: { relay: { maxAttempts: 2 } },
  });
  // Claimed, not port 0: each AP's directory names both APs' SMTP relay endpoints before either listens.
  const relayPorts = { c2: await claimPort(), c3: await claimPort() };
  smtpNet = await startTwoAccessPoints({
    outDir: join(work, 'smtp'),
    pkiDir: pki.dir,
    as4Endpoint: (name) => `smtp://127.0.0.1:${relayPorts[name]}?domain=${name}.example`,
    overrides: (name) => ({
      smtp: { domain: `${name}.example`, relay: { port: relayPorts[name] } },
      relay: { maxAttempts: 2 },
    }),
  });
}, 120_000);
afterAll(async () => {
  await net?.stop();
  await smtpNet?.stop();
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

async function send(aps: TwoAccessPoints = net): Promise<{ id: string; events: string[] }> {
  const form = new FormData();
  form.set('metadata', JSON.stringify({ recipient: RECIPIENT.id }));
  form.append('payload', new Blob(['<Invoice/>'], { type: 'application/xml' }), 'i.xml');
  const { id } = await api<{ id: string }>(aps.c2.url, SENDER.key, '/api/v1/messages', {
    method: 'POST',
    body: form,
  });
  const events = await waitFor(
    async () => {
      const names = (
        await api<Array<{ event: string }>>(aps.c2.url, SENDER.key, `/api/v1/messages/${id}/evidence`)
      ).map((e) => e.event);
      return names.includes('RelayAcceptance') || names.includes('RelayFailure') ? names : undefined;
    },
    { timeoutMs: 60_000 },
  );
  return { id, events };
}

describe('OCSP status of the sending AP at C3', () => {
  it('good: relayed', async () => {
    expect((await send()).events).toContain('RelayAcceptance');
  }, 90_000);

  it('revoked: refused with EBMS:0101, RelayFailure at C2', async () => {
    status = { status: 'revoked', revokedAt: new Date(Date.now() - 60_000) };
    const { id, events } = await send();
    expect(events).toContain('RelayFailure');
    expect(events).not.toContain('RelayAcceptance');
    const failure = (await accessPointInternals(net.c2).context.store.listEvidence(id)).find(
      (e) => e.event === 'RelayFailure',
    );
    expect(failure?.xml).toMatch(/revoked according to its OCSP responder/);
  }, 90_000);
});

describe('OCSP status of the sending AP at C3, over the REM SMTP relay binding', () => {
  it('good: relayed', async () => {
    status = { status: 'good' };
    expect((await send(smtpNet)).events).toContain('RelayAcceptance');
  }, 90_000);

  it('revoked: refused with 554 5.7.1, RelayFailure RB05 at C2', async () => {
    status = { status: 'revoked', revokedAt: new Date(Date.now() - 60_000) };
    const { id, events } = await send(smtpNet);
    expect(events).toContain('RelayFailure');
    expect(events).not.toContain('RelayAcceptance');
    const failure = (await accessPointInternals(smtpNet.c2).context.store.listEvidence(id)).find(
      (e) => e.event === 'RelayFailure',
    );
    expect(failure?.xml).toMatch(
      /554 5\.7\.1 the signer's certificate is revoked according to its OCSP responder/,
    );
    expect(failure?.xml).toContain('R_ERDS_MessageRejectedForInvalidCertificate');
  }, 90_000);
});
