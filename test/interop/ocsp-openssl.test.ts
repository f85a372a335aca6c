import { execFile, execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { promisify } from 'node:util';
import { X509Certificate } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createOcspResponder,
  crlStatusSource,
  fetchOcsp,
  loadSigningIdentity,
  revokeCertificate,
  type DevPkiLayout,
} from '../../src/pki/index.js';
import { waitFor } from '../helpers/wait.js';
import { devTestPki } from '../helpers/pki.js';
import { claimPort } from '../helpers/ports.js';

/**
 * OCSP (RFC 6960) against an independent implementation, both directions: `openssl ocsp` asks our responder
 * and checks its signed answers (good / revoked), and our client verifies answers of openssl's own responder
 * (`openssl ocsp -index … -port`). A responder certificate without id-kp-OCSPSigning is refused.
 */
const work = mkdtempSync(join(tmpdir(), 'qerds-ocsp-'));
let pki: DevPkiLayout;
let ca: X509Certificate;
let good: X509Certificate;
let revoked: X509Certificate;
let revokedAt: Date;
let signer: { certFile: string; keyFile: string };

/** A delegated OCSP responder certificate (EKU OCSPSigning) issued by the dev CA with the openssl CLI. */
function opensslOcspSigner(
  layout: DevPkiLayout,
  cn: string,
  eku = 'OCSPSigning',
): { certFile: string; keyFile: string } {
  const dir = mkdtempSync(join(work, 'signer-'));
  const keyFile = join(dir, 'key.pem');
  const certFile = join(dir, 'cert.pem');
  writeFileSync(
    join(dir, 'ext.cnf'),
    `[x]\nbasicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=${eku}\nsubjectKeyIdentifier=hash\nauthorityKeyIdentifier=keyid\n`,
  );
  const run = (args: string[]) => execFileSync('openssl', args, { stdio: 'pipe' });
  run(['genpkey', '-algorithm', 'RSA', '-pkeyopt', 'rsa_keygen_bits:2048', '-out', keyFile]);
  run(['req', '-new', '-key', keyFile, '-subj', `/C=JP/O=Test/CN=${cn}`, '-out', join(dir, 'csr.pem')]);
  run([
    'x509',
    '-req',
    '-in',
    join(dir, 'csr.pem'),
    '-CA',
    layout.caCert,
    '-CAkey',
    layout.caKey,
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
    certFile,
  ]);
  return { certFile, keyFile };
}

beforeAll(async () => {
  pki = await devTestPki(join(work, 'pki'), { recipients: [] });
  ca = new X509Certificate(readFileSync(pki.caCert));
  good = new X509Certificate(readFileSync(pki.ap('c2').sealCert));
  revoked = new X509Certificate(readFileSync(pki.ap('c3').sealCert));
  revokedAt = new Date(Math.floor(Date.now() / 1000) * 1000 - 60_000);
  await revokeCertificate(pki, readFileSync(pki.ap('c3').sealCert, 'utf8'), 'keyCompromise', revokedAt);
  signer = opensslOcspSigner(pki, 'Dev OCSP responder');
}, 120_000);

describe('our OCSP responder, asked by openssl ocsp', () => {
  let server: Server;
  let url: string;
  beforeAll(async () => {
    const responder = createOcspResponder({
      issuer: ca,
      signer: loadSigningIdentity(signer.certFile, signer.keyFile),
      statusOf: crlStatusSource(() => readFileSync(pki.caCrl)),
    });
    server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        void responder
          .respond(Buffer.concat(chunks))
          .then((der) => res.writeHead(200, { 'content-type': 'application/ocsp-response' }).end(der));
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  // Asynchronously: the responder answers from this very process.
  const ask = async (certFile: string) => {
    const { stdout, stderr } = await promisify(execFile)(
      'openssl',
      ['ocsp', '-issuer', pki.caCert, '-cert', certFile, '-url', url, '-resp_text', '-CAfile', pki.caCert],
      { encoding: 'utf8', timeout: 20_000 },
    );
    return `${stdout}${stderr}`;
  };

  it('answers good for a valid certificate and revoked (with the time) for a revoked one; openssl verifies the signature and the nonce', async () => {
    const okOut = await ask(pki.ap('c2').sealCert);
    expect(okOut).toMatch(/: good/);
    expect(okOut).toMatch(/OCSP Nonce/);
    expect(okOut).toMatch(/Response verify OK/);
    const revOut = await ask(pki.ap('c3').sealCert);
    expect(revOut).toMatch(/: revoked/);
    expect(revOut).toMatch(/Revocation Time:/);
  });

  it('our own client agrees with it', async () => {
    expect((await fetchOcsp(url, good, ca)).status).toBe('good');
    const r = await fetchOcsp(url, revoked, ca);
    expect(r).toMatchObject({ status: 'revoked', revokedAt });
    expect(r.responder.subject).toContain('Dev OCSP responder');
  });
});

describe("openssl's OCSP responder, asked by our client", () => {
  let responder: ChildProcess | undefined;
  const start = async (rsigner: { certFile: string; keyFile: string }): Promise<string> => {
    const t = (d: Date) => d.toISOString().replace(/[-:T]/g, '').slice(2, 14) + 'Z';
    const subject = (c: X509Certificate) => `/${c.subject.split('\n').join('/')}`;
    const index = join(work, `index-${Date.now()}.txt`);
    writeFileSync(
      index,
      [
        `V\t${t(new Date(good.validTo))}\t\t${good.serialNumber}\tunknown\t${subject(good)}`,
        `R\t${t(new Date(revoked.validTo))}\t${t(revokedAt)},keyCompromise\t${revoked.serialNumber}\tunknown\t${subject(revoked)}`,
        '',
      ].join('\n'),
    );
    // Claimed, not port 0: `openssl ocsp -port` takes the port on its command line and does not report one it chose.
    const port = await claimPort();
    const child = spawn(
      'openssl',
      [
        'ocsp',
        '-index',
        index,
        '-port',
        String(port),
        '-rsigner',
        rsigner.certFile,
        '-rkey',
        rsigner.keyFile,
        '-CA',
        pki.caCert,
      ],
      { stdio: ['ignore', 'ignore', 'pipe'] },
    );
    responder = child;
    // Ready once it says so (a probe connection would hold its single-threaded accept loop).
    let said = '';
    child.stderr!.on('data', (d: Buffer) => (said += d.toString()));
    await waitFor(async () => (said.includes('waiting for OCSP client connections') ? true : undefined), {
      timeoutMs: 10_000,
    });
    return `http://127.0.0.1:${port}`;
  };
  afterAll(() => responder?.kill());

  it('verifies its signed answers: good and revoked (with the revocation time)', async () => {
    const url = await start(signer);
    expect((await fetchOcsp(url, good, ca)).status).toBe('good');
    expect(await fetchOcsp(url, revoked, ca)).toMatchObject({ status: 'revoked', revokedAt });
    responder?.kill();
  });

  it('refuses answers signed by a certificate of the CA that lacks id-kp-OCSPSigning', async () => {
    const url = await start(opensslOcspSigner(pki, 'Not an OCSP responder', 'clientAuth'));
    await expect(fetchOcsp(url, good, ca)).rejects.toMatchObject({ code: 'PKI_OCSP_RESPONDER_UNAUTHORIZED' });
    responder?.kill();
  });
});
