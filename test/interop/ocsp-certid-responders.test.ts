import { execFile, execFileSync } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isQerdsError } from '../../src/core/index.js';
import {
  createOcspResponder,
  encodeOcspRequest,
  fetchOcsp,
  loadSigningIdentity,
  verifyOcspResponse,
} from '../../src/pki/index.js';
import { readDerElement, derChildren, derOid } from '../../src/pki/der.js';

/**
 * OCSP answers made by `openssl ocsp` (the independent responder: `-reqin`/`-respout` files, and behind a tiny
 * HTTP wrapper for fetchOcsp), judged by our client per RFC 6960 §4.2.2.2: SHA-256 CertIDs; the CA itself as
 * responder; a delegated responder (id-kp-OCSPSigning, issued by the CA that issued the certificate); and the
 * responders that must be refused (no OCSPSigning EKU; issued by the root, not by the certificate's issuing CA).
 *
 * The PKI is built here with openssl (EC P-256 keys, cheap) because its shape is what the test is about: a root,
 * an intermediate that issues the certificates asked about, and responders issued by each.
 */
const work = mkdtempSync(join(tmpdir(), 'qerds-ocsp-certid-'));
const run = (args: string[]) => execFileSync('openssl', args, { stdio: 'pipe', cwd: work });
const file = (name: string) => join(work, name);
const cert = (name: string) => new X509Certificate(readFileSync(file(`${name}.pem`)));
const sha256Oid = '2.16.840.1.101.3.4.2.1';

/** A key and a certificate `name` issued by `issuer` (self-signed when undefined) with the extensions given. */
function issue(name: string, issuer: string | undefined, ext: string): void {
  run(['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', file(`${name}.key`)]);
  writeFileSync(file(`${name}.cnf`), `[x]\n${ext}\nsubjectKeyIdentifier=hash\n`);
  const subject = ['-subj', `/C=JP/O=OCSP Test/CN=${name}`];
  if (!issuer) {
    run(
      ['req', '-new', '-x509', '-key', file(`${name}.key`), ...subject, '-days', '30', '-sha256'].concat([
        '-extensions',
        'x',
        '-config',
        file(`${name}.cnf`),
        '-out',
        file(`${name}.pem`),
      ]),
    );
    return;
  }
  run(['req', '-new', '-key', file(`${name}.key`), ...subject, '-out', file(`${name}.csr`)]);
  run([
    'x509',
    '-req',
    '-in',
    file(`${name}.csr`),
    '-CA',
    file(`${issuer}.pem`),
    '-CAkey',
    file(`${issuer}.key`),
    '-CAcreateserial',
    '-CAserial',
    file(`${issuer}.srl`),
    '-days',
    '30',
    '-sha256',
    '-extfile',
    file(`${name}.cnf`),
    '-extensions',
    'x',
    '-out',
    file(`${name}.pem`),
  ]);
}

const CA_EXT = 'basicConstraints=critical,CA:TRUE\nkeyUsage=critical,keyCertSign,cRLSign,digitalSignature';
const LEAF_EXT = 'basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature';
const RESPONDER_EXT = `${LEAF_EXT}\nextendedKeyUsage=OCSPSigning`;
let revokedAt: Date;

beforeAll(() => {
  // Needs the req section of a config for the self-signed root: a minimal one.
  writeFileSync(
    file('root.cnf'),
    `[req]\ndistinguished_name=dn\n[dn]\n[x]\n${CA_EXT}\nsubjectKeyIdentifier=hash\n`,
  );
  run(['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', file('root.key')]);
  run([
    'req',
    '-new',
    '-x509',
    '-key',
    file('root.key'),
    '-subj',
    '/C=JP/O=OCSP Test/CN=root',
    '-days',
    '30',
    '-sha256',
    '-extensions',
    'x',
    '-config',
    file('root.cnf'),
    '-out',
    file('root.pem'),
  ]);
  issue('intermediate', 'root', CA_EXT);
  issue('leaf', 'intermediate', LEAF_EXT);
  issue('revoked', 'intermediate', LEAF_EXT);
  issue('delegate', 'intermediate', RESPONDER_EXT);
  issue('no-eku', 'intermediate', `${LEAF_EXT}\nextendedKeyUsage=clientAuth`);
  issue('root-delegate', 'root', RESPONDER_EXT);
  revokedAt = new Date(Math.floor(Date.now() / 1000) * 1000 - 60_000);
  const t = (d: Date) => d.toISOString().replace(/[-:T]/g, '').slice(2, 14) + 'Z';
  const line = (c: X509Certificate, revocation = '') =>
    `${revocation ? 'R' : 'V'}\t${t(new Date(c.validTo))}\t${revocation}\t${c.serialNumber}\tunknown\t/${c.subject.split('\n').join('/')}`;
  writeFileSync(
    file('index.txt'),
    `${line(cert('leaf'))}\n${line(cert('revoked'), `${t(revokedAt)},keyCompromise`)}\n`,
  );
}, 120_000);
afterAll(() => rmSync(work, { recursive: true, force: true }));

/** openssl ocsp answering one request file as `responder` (cert + key) for the intermediate's index. */
async function opensslAnswer(request: Buffer, responder: string, tag: string): Promise<Buffer> {
  writeFileSync(file(`${tag}.req`), request);
  await promisify(execFile)(
    'openssl',
    [
      'ocsp',
      '-index',
      file('index.txt'),
      '-CA',
      file('intermediate.pem'),
      '-rsigner',
      file(`${responder}.pem`),
      '-rkey',
      file(`${responder}.key`),
      '-reqin',
      file(`${tag}.req`),
      '-respout',
      file(`${tag}.resp`),
      '-ndays',
      '1',
    ],
    { cwd: work },
  );
  return readFileSync(file(`${tag}.resp`));
}

/** A request made by openssl itself (SHA-256 CertID with `-sha256`), no nonce. */
function opensslRequest(target: string, digest: 'sha1' | 'sha256', tag: string): Buffer {
  // openssl wants the digest before -cert.
  run([
    'ocsp',
    '-issuer',
    file('intermediate.pem'),
    `-${digest}`,
    '-cert',
    file(`${target}.pem`),
    '-no_nonce',
    '-reqout',
    file(`${tag}.req`),
  ]);
  return readFileSync(file(`${tag}.req`));
}

/** The hash algorithm OID of the first CertID of an OCSPResponse (so the test sees what openssl answered with). */
function responseCertIdHash(der: Buffer): string {
  const bytes = derChildren(derChildren(readDerElement(der))[1]!)[0]!;
  const basic = readDerElement(derChildren(bytes)[1]!.content);
  const tbs = derChildren(derChildren(basic)[0]!).filter((f) => f.tag !== 0xa0);
  const single = derChildren(tbs[2]!)[0]!;
  return derOid(derChildren(derChildren(derChildren(single)[0]!)[0]!)[0]!);
}

const codeOf = (e: unknown) => (isQerdsError(e) ? e.code : String(e));

describe('OCSP answers of openssl ocsp, verified by our client', () => {
  it('SHA-256 CertID (request made by openssl): good and revoked, answered by a delegated responder', async () => {
    const ok = await opensslAnswer(
      opensslRequest('leaf', 'sha256', 'sha256-good'),
      'delegate',
      'sha256-good',
    );
    expect(responseCertIdHash(ok)).toBe(sha256Oid);
    const r = verifyOcspResponse(ok, { cert: cert('leaf'), issuer: cert('intermediate') });
    expect(r.status).toBe('good');
    expect(r.responder.subject).toContain('CN=delegate');
    const rev = await opensslAnswer(
      opensslRequest('revoked', 'sha256', 'sha256-rev'),
      'delegate',
      'sha256-rev',
    );
    expect(verifyOcspResponse(rev, { cert: cert('revoked'), issuer: cert('intermediate') })).toMatchObject({
      status: 'revoked',
      revokedAt,
    });
    // The SHA-256 answer about one certificate says nothing about another.
    expect(codeOf(tryVerify(ok, 'revoked'))).toBe('PKI_OCSP_WRONG_CERT');
  });

  it('SHA-256 CertID of our own request (encodeOcspRequest) matches what openssl computes', async () => {
    const ok = await opensslAnswer(
      encodeOcspRequest(cert('leaf'), cert('intermediate'), undefined, 'sha256'),
      'delegate',
      'ours-sha256',
    );
    expect(responseCertIdHash(ok)).toBe(sha256Oid);
    expect(verifyOcspResponse(ok, { cert: cert('leaf'), issuer: cert('intermediate') }).status).toBe('good');
  });

  it('a response signed by the issuing CA itself is accepted', async () => {
    const ok = await opensslAnswer(opensslRequest('leaf', 'sha1', 'ca-signed'), 'intermediate', 'ca-signed');
    const r = verifyOcspResponse(ok, { cert: cert('leaf'), issuer: cert('intermediate') });
    expect(r.status).toBe('good');
    expect(r.responder.fingerprint256).toBe(cert('intermediate').fingerprint256);
  });

  it('refused: a responder of the CA without id-kp-OCSPSigning, and an OCSPSigning responder issued by the root instead of the issuing CA', async () => {
    const noEku = await opensslAnswer(opensslRequest('leaf', 'sha256', 'no-eku'), 'no-eku', 'no-eku');
    const e1 = tryVerify(noEku, 'leaf');
    expect(codeOf(e1)).toBe('PKI_OCSP_RESPONDER_UNAUTHORIZED');
    expect((e1 as Error).message).toContain('lacks the id-kp-OCSPSigning');
    const byRoot = await opensslAnswer(
      opensslRequest('leaf', 'sha256', 'root-delegate'),
      'root-delegate',
      'root-delegate',
    );
    const e2 = tryVerify(byRoot, 'leaf');
    expect(codeOf(e2)).toBe('PKI_OCSP_RESPONDER_UNAUTHORIZED');
    expect((e2 as Error).message).toContain('was not issued by the CA of the certificate');
    // Signed by the root itself, about a certificate the intermediate issued: neither that CA nor its delegate.
    const rootSigned = await opensslAnswer(
      opensslRequest('leaf', 'sha1', 'root-signed'),
      'root',
      'root-signed',
    );
    const e3 = tryVerify(rootSigned, 'leaf');
    expect(codeOf(e3)).toBe('PKI_OCSP_RESPONDER_UNAUTHORIZED');
    expect((e3 as Error).message).toContain('CN=root was not issued by the CA of the certificate');
  });

  it("our responder answers openssl's SHA-256 request with the same CertID, and openssl verifies the answer", async () => {
    const responder = createOcspResponder({
      issuer: cert('intermediate'),
      signer: loadSigningIdentity(file('delegate.pem'), file('delegate.key')),
      statusOf: (serial) =>
        serial === cert('leaf').serialNumber.toLowerCase().replace(/^0+/, '')
          ? { status: 'good' }
          : { status: 'unknown' },
    });
    const der = await responder.respond(opensslRequest('leaf', 'sha256', 'ours-answer'));
    expect(responseCertIdHash(der)).toBe(sha256Oid);
    writeFileSync(file('ours-answer.resp'), der);
    writeFileSync(
      file('chain.pem'),
      `${readFileSync(file('root.pem'), 'utf8')}${readFileSync(file('intermediate.pem'), 'utf8')}`,
    );
    const { stdout, stderr } = await promisify(execFile)(
      'openssl',
      [
        'ocsp',
        '-respin',
        file('ours-answer.resp'),
        '-issuer',
        file('intermediate.pem'),
        '-sha256',
        '-cert',
        file('leaf.pem'),
        '-CAfile',
        file('chain.pem'),
        '-no_nonce',
      ],
      { cwd: work },
    );
    expect(`${stdout}${stderr}`).toMatch(/Response verify OK/);
    expect(stdout).toMatch(/leaf\.pem: good/);
  });

  describe('over HTTP (openssl ocsp behind a small wrapper), with a nonce', () => {
    let server: Server;
    let url: string;
    let n = 0;
    beforeAll(async () => {
      server = createServer((req, res) => {
        const chunks: Buffer[] = [];
        req.on('data', (c: Buffer) => chunks.push(c));
        req.on('end', () => {
          void opensslAnswer(Buffer.concat(chunks), 'delegate', `http-${++n}`).then(
            (der) => res.writeHead(200, { 'content-type': 'application/ocsp-response' }).end(der),
            () => res.writeHead(500).end(),
          );
        });
      });
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
    });
    afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

    it('fetchOcsp with a SHA-256 CertID: good and revoked, nonce echoed', async () => {
      expect((await fetchOcsp(url, cert('leaf'), cert('intermediate'), { hash: 'sha256' })).status).toBe(
        'good',
      );
      expect(await fetchOcsp(url, cert('revoked'), cert('intermediate'), { hash: 'sha256' })).toMatchObject({
        status: 'revoked',
        revokedAt,
      });
      expect(responseCertIdHash(readFileSync(file(`http-${n}.resp`)))).toBe(sha256Oid);
    });
  });
});

function tryVerify(der: Buffer, target: string): unknown {
  try {
    return verifyOcspResponse(der, { cert: cert(target), issuer: cert('intermediate') });
  } catch (e) {
    return e;
  }
}
