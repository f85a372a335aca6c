import { execFileSync } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { requirePeppolApCertificate } from '../../src/access-point/peppol-peer-check.js';
import { createAccessPoint } from '../../src/access-point.js';
import { loadConfig } from '../../src/config/index.js';
import { peppolApAnchorFiles } from '../../src/peppol/index.js';
import {
  createOcspResponder,
  loadSigningIdentity,
  loadTrustStore,
  normaliseSerial,
  type OcspCertStatus,
} from '../../src/pki/index.js';
import { sharedTestPki } from '../helpers/pki.js';

/**
 * A peer's certificate under the configured Peppol anchors, with revocation by OCSP and by CRL. The real OpenPeppol
 * CAs cannot issue for a test, so a local stand-in PKI plays them: a root, an "AP test CA - G3" and an "SMP test
 * CA" under it, and AP certificates with the Peppol profile (CN=POP000xxx, OU=PEPPOL TEST AP, O, C, clientAuth
 * EKU) whose AIA names this test's OCSP responder. Built with the openssl CLI (not sharedTestPki: the names, the
 * Peppol layout of the directory and the AIA URL are what is tested), in a directory laid out like certs/peppol
 * and selected through the same `pki.peppolAnchors` setting an operator writes.
 */
const work = mkdtempSync(join(tmpdir(), 'qerds-peppol-pki-'));
const standIn = join(work, 'peppol');
const run = (args: string[]) => execFileSync('openssl', args, { stdio: 'pipe', cwd: work });
/** The validation time: taken once everything is issued (openssl dates certificates and the CRL from now). */
let at: Date;

function key(name: string): string {
  const file = join(work, `${name}.key.pem`);
  run(['genpkey', '-algorithm', 'RSA', '-pkeyopt', 'rsa_keygen_bits:2048', '-out', file]);
  return file;
}

/** A certificate for `subject` issued by `issuer` (or self-signed), with the extensions given. */
function issue(
  name: string,
  subject: string,
  extensions: string,
  issuer?: { cert: string; key: string },
): { cert: string; key: string } {
  const k = key(name);
  const cert = join(work, `${name}.crt.pem`);
  writeFileSync(join(work, `${name}.ext`), `[x]\n${extensions}\n`);
  const csr = join(work, `${name}.csr`);
  run(['req', '-new', '-key', k, '-subj', subject, '-out', csr]);
  const signing = issuer
    ? ['-CA', issuer.cert, '-CAkey', issuer.key, '-CAcreateserial', '-CAserial', join(work, `${name}.srl`)]
    : ['-signkey', k];
  run([
    'x509',
    '-req',
    '-in',
    csr,
    ...signing,
    '-days',
    '30',
    '-sha256',
    '-extfile',
    join(work, `${name}.ext`),
    '-extensions',
    'x',
    '-out',
    cert,
  ]);
  return { cert, key: k };
}

const CA_EXT =
  'basicConstraints=critical,CA:TRUE\nkeyUsage=critical,keyCertSign,cRLSign,digitalSignature\nsubjectKeyIdentifier=hash\nauthorityKeyIdentifier=keyid';
const apExt = (aia?: string) =>
  `basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature,keyEncipherment,keyAgreement\nextendedKeyUsage=critical,clientAuth\nsubjectKeyIdentifier=hash\nauthorityKeyIdentifier=keyid${aia ? `\nauthorityInfoAccess=OCSP;URI:${aia}` : ''}`;

let server: Server;
let base: string;
const revokedSerials = new Map<string, Date>();
let apCa: { cert: string; key: string };
let good: X509Certificate;
let revoked: X509Certificate;
let silentResponder: X509Certificate;
let noAiaGood: X509Certificate;
let noAiaRevoked: X509Certificate;
let smpCert: X509Certificate;
let notAPeppolName: X509Certificate;
let crlFile: string;
/** The OCSP responder of the AP CA, set once the CA exists (the server answers 503 before). */
let respond: ((request: Buffer) => Promise<Buffer>) | undefined;

beforeAll(async () => {
  // The OCSP responder listens first (port 0), so the certificates can name its bound address.
  server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      if (req.url === '/down' || !respond) return void res.writeHead(503).end();
      void respond(Buffer.concat(chunks)).then((der) =>
        res.writeHead(200, { 'content-type': 'application/ocsp-response' }).end(der),
      );
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  const root = issue(
    'root',
    '/C=BE/O=Stand-in OpenPEPPOL/OU=FOR TEST ONLY/CN=Stand-in PEPPOL Root TEST CA - G3',
    CA_EXT,
  );
  apCa = issue(
    'ap-ca',
    '/C=BE/O=Stand-in OpenPEPPOL/OU=FOR TEST ONLY/CN=Stand-in PEPPOL ACCESS POINT TEST CA - G3',
    CA_EXT,
    root,
  );
  const smpCa = issue(
    'smp-ca',
    '/C=BE/O=Stand-in OpenPEPPOL/OU=FOR TEST ONLY/CN=Stand-in PEPPOL SERVICE METADATA PUBLISHER TEST CA - G3',
    CA_EXT,
    root,
  );
  mkdirSync(join(standIn, 'ap-test'), { recursive: true });
  writeFileSync(join(standIn, 'ap-test', 'peppol-ap-test-ca-g3.pem'), readFileSync(apCa.cert));

  const ap = (name: string, cn: string, aia?: string) =>
    new X509Certificate(
      readFileSync(issue(name, `/C=JP/O=Stand-in AP KK/OU=PEPPOL TEST AP/CN=${cn}`, apExt(aia), apCa).cert),
    );
  good = ap('good', 'POP000901', `${base}/ocsp`);
  revoked = ap('revoked', 'POP000902', `${base}/ocsp`);
  silentResponder = ap('silent', 'POP000903', `${base}/down`);
  noAiaGood = ap('crl-good', 'POP000904');
  noAiaRevoked = ap('crl-revoked', 'POP000905');
  notAPeppolName = ap('no-seat', 'ap.example.jp');
  // Issued by the SMP CA with a name that looks like an AP's: only the anchor can tell it apart.
  smpCert = new X509Certificate(
    readFileSync(issue('smp', '/C=JP/O=Stand-in SMP KK/OU=PEPPOL TEST AP/CN=PSG000906', apExt(), smpCa).cert),
  );

  const revokedAt = new Date(Math.floor(Date.now() / 1000) * 1000);
  revokedSerials.set(normaliseSerial(revoked.serialNumber), revokedAt);
  revokedSerials.set(normaliseSerial(noAiaRevoked.serialNumber), revokedAt);
  const statusOf = (serial: string): OcspCertStatus =>
    revokedSerials.has(serial)
      ? { status: 'revoked', revokedAt: revokedSerials.get(serial)! }
      : { status: 'good' };
  respond = createOcspResponder({
    issuer: new X509Certificate(readFileSync(apCa.cert)),
    signer: loadSigningIdentity(apCa.cert, apCa.key),
    statusOf,
  }).respond;

  // The AP CA's CRL, made by openssl ca: lists POP000905 (the certificate without an OCSP URL) as revoked.
  const db = join(work, 'ca-db');
  mkdirSync(db);
  writeFileSync(join(db, 'index.txt'), '');
  writeFileSync(join(db, 'crlnumber'), '01\n');
  const t = (d: Date) => `${d.toISOString().slice(2, 19).replace(/[-T:]/g, '')}Z`;
  writeFileSync(
    join(db, 'index.txt'),
    `R\t${t(new Date(revokedAt.getTime() + 86_400_000 * 30))}\t${t(revokedAt)}\t${noAiaRevoked.serialNumber}\tunknown\t/CN=POP000905\n`,
  );
  writeFileSync(
    join(work, 'ca.cnf'),
    `[ca]\ndefault_ca=d\n[d]\ndatabase=${db}/index.txt\ncrlnumber=${db}/crlnumber\ndefault_md=sha256\ndefault_crl_days=7\n`,
  );
  crlFile = join(work, 'ap-ca.crl.pem');
  run([
    'ca',
    '-gencrl',
    '-config',
    join(work, 'ca.cnf'),
    '-cert',
    apCa.cert,
    '-keyfile',
    apCa.key,
    '-out',
    crlFile,
  ]);
  at = new Date();
}, 120_000);

afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

/** The anchors as an operator configures them: `pki.peppolAnchors` in the YAML, the stand-in directory as `dir`. */
function configuredTrust(withCrl: boolean) {
  const file = join(work, 'qerds.yaml');
  writeFileSync(
    file,
    `pki:\n  peppolAnchors:\n    network: test\n    generations: [G3]\n    dir: ./peppol\n`,
  );
  const config = loadConfig({ file, env: {} });
  expect(config.pki.peppolAnchors).toEqual({ network: 'test', generations: ['G3'], dir: standIn });
  const files = peppolApAnchorFiles({
    network: 'test',
    generations: config.pki.peppolAnchors!.generations,
    dir: config.pki.peppolAnchors!.dir!,
  });
  return loadTrustStore([...files, ...(withCrl ? [crlFile] : [])]);
}

const check = (cert: X509Certificate, withCrl = false) =>
  requirePeppolApCertificate(cert, {
    trust: configuredTrust(withCrl),
    network: 'test',
    at,
    ocspTimeoutMs: 10_000,
  });

describe('a peer AP certificate under the configured Peppol anchors (stand-in OpenPeppol test PKI, G3)', () => {
  it('accepted: the Peppol AP profile, chaining to the configured AP CA, and OCSP good from the responder its AIA names', async () => {
    await expect(check(good)).resolves.toBeUndefined();
  });

  it('OCSP revoked: refused (EBMS:0101) with the revocation time', async () => {
    await expect(check(revoked)).rejects.toMatchObject({
      code: 'AS4_EBMS_0101',
      message: expect.stringMatching(/is revoked according to its OCSP responder \(since /),
    });
  });

  it('OCSP responder not answering: refused, "could not check" is not "not revoked"', async () => {
    await expect(check(silentResponder)).rejects.toMatchObject({
      code: 'AS4_EBMS_0101',
      message: expect.stringMatching(
        /OCSP status of the signer cannot be established: OCSP: .*\/down did not answer: HTTP 503/,
      ),
    });
  });

  it('no OCSP URL: the AP CA CRL decides — listed: revoked; not listed: accepted; no CRL held: refused as unknown', async () => {
    await expect(check(noAiaRevoked, true)).rejects.toMatchObject({
      code: 'AS4_EBMS_0101',
      message: expect.stringMatching(/does not chain to a Peppol test AP CA: .*POP000905 was revoked on/),
    });
    await expect(check(noAiaGood, true)).resolves.toBeUndefined();
    await expect(check(noAiaGood, false)).rejects.toMatchObject({
      code: 'AS4_EBMS_0101',
      message: expect.stringMatching(
        /revocation status of .*POP000904 cannot be established: no OCSP responder in the certificate and no CRL from/,
      ),
    });
  });

  it('a certificate of the SMP CA under the same Peppol root does not pass for an AP, even with an AP-like name: the anchors are the AP CAs only', async () => {
    await expect(check(smpCert)).rejects.toMatchObject({
      code: 'AS4_EBMS_0101',
      message: expect.stringMatching(/PSG000906 does not chain to a Peppol test AP CA: no path from/),
    });
  });

  it('a certificate of the right CA whose CN is no seat id is not a Peppol AP certificate', async () => {
    await expect(check(notAPeppolName)).rejects.toMatchObject({
      code: 'AS4_EBMS_0101',
      message: expect.stringMatching(
        /is not a Peppol AP certificate: subject CN "ap\.example\.jp" is not one Peppol seat id/,
      ),
    });
  });

  it('a real Peppol test AP certificate is refused by the production anchors, and by the test ones when expired', async () => {
    const helger = new X509Certificate(
      readFileSync(
        join(
          import.meta.dirname,
          '..',
          'fixtures',
          'as4',
          'foreign',
          'phase4',
          'helger-pop000306-2023.cert.pem',
        ),
      ),
    );
    const production = loadTrustStore(peppolApAnchorFiles({ network: 'production' }));
    await expect(
      requirePeppolApCertificate(helger, {
        trust: production,
        network: 'production',
        at: new Date('2022-03-07T17:45:00Z'),
      }),
    ).rejects.toMatchObject({
      // A test AP certificate on the production network: refused by its OU before its path is looked for.
      message: expect.stringMatching(
        /lacks PEPPOL PRODUCTION AP, which the production network's AP certificates carry/,
      ),
    });
    expect(production.validate(helger, { at: new Date('2022-03-07T17:45:00Z') }).valid).toBe(false);
    const testAnchors = loadTrustStore(peppolApAnchorFiles({ network: 'test' }));
    await expect(
      requirePeppolApCertificate(helger, { trust: testAnchors, network: 'test', at }),
    ).rejects.toMatchObject({ message: expect.stringMatching(/POP000306 expired on 2023-05-14/) });
  });
});

describe('pki.peppolAnchors in the composition root', () => {
  it('a missing anchor file of the chosen set stops the AP at start, naming pki.peppolAnchors and the file', async () => {
    const empty = mkdtempSync(join(work, 'empty-'));
    const config = loadConfig({
      env: {},
      overrides: {
        http: { port: 0 },
        store: { sqliteFile: ':memory:', blobDir: join(work, 'blobs') },
        pki: {
          dir: sharedTestPki().dir,
          apName: 'c2',
          peppolAnchors: { network: 'production', generations: ['G3'], dir: empty },
        },
        log: { level: 'silent' },
      },
    });
    await expect(createAccessPoint(config)).rejects.toMatchObject({
      code: 'CONFIG_INVALID',
      message: `pki.peppolAnchors: ${join(empty, 'ap-production', 'peppol-ap-ca-g3.pem')} not found`,
    });
  });
});
