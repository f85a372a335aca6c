import { execFileSync, spawnSync } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { crlPem, generateRsaKey, importRsaSigningKey, issueCrl } from '../../src/pki/cert-factory.js';
import {
  createCrlSet,
  createTrustStore,
  crlDistributionPointUrls,
  devPkiLayout,
  readTrustMaterial,
  refreshCrls,
  revokeCertificate,
  type CrlSet,
  type DevPkiLayout,
  type TrustStore,
} from '../../src/pki/index.js';
import { x509 } from '../../src/pki/x509.js';
import { qerdsInProcess, qerdsLaunched } from '../helpers/cli.js';
import { devTestPki } from '../helpers/pki.js';

/**
 * Revocation data replaced while the AP runs (pki.crlRefresh): a refresh takes a newer CRL of a configured CA
 * and nothing else (older: rollback; signed by another key; unparsable), and a trust store over the CrlSet sees
 * the new CRL at once (validation and `trust.crls`, what B-LT seals embed).
 */
const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const work = mkdtempSync(join(tmpdir(), 'qerds-crl-refresh-'));
let pki: DevPkiLayout;
let ca: { cert: x509.X509Certificate; signingKey: CryptoKey };
let seal: X509Certificate;

/** A CRL of the dev CA (or signed by `signingKey` under the CA's name), numbered `n`, issued at `thisUpdate`. */
async function crlOf(
  n: bigint,
  thisUpdate: Date,
  options: { revoked?: string; signingKey?: CryptoKey; days?: number } = {},
): Promise<string> {
  const entries = options.revoked
    ? [{ serialNumber: options.revoked, revocationDate: new Date(thisUpdate.getTime() - HOUR) }]
    : [];
  const signer = { cert: ca.cert, signingKey: options.signingKey ?? ca.signingKey };
  return crlPem(
    await issueCrl(signer, {
      crlNumber: n,
      thisUpdate,
      nextUpdate: new Date(thisUpdate.getTime() + (options.days ?? 30) * DAY),
      entries,
    }),
  );
}

function storeOver(file: string): { crls: CrlSet; trust: TrustStore } {
  const material = readTrustMaterial([pki.caCert, file]);
  const crls = createCrlSet(material.crls, material.anchors);
  return { crls, trust: createTrustStore(material.anchors, { crls }) };
}

const numberOf = (crl: Buffer | string) =>
  new x509.X509Crl(typeof crl === 'string' ? crl : Uint8Array.from(crl)).extensions.find(
    (e) => e.type === '2.5.29.20',
  );

beforeAll(async () => {
  pki = await devTestPki(join(work, 'pki'), { aps: ['c2'], recipients: [] });
  ca = {
    cert: new x509.X509Certificate(readFileSync(pki.caCert, 'utf8')),
    signingKey: await importRsaSigningKey(readFileSync(pki.caKey, 'utf8')),
  };
  seal = new X509Certificate(readFileSync(pki.ap('c2').sealCert));
}, 120_000);

describe('refreshCrls from the configured files', () => {
  it('takes a newer CRL: validation sees the revocation it adds, trust.crls is the new one', async () => {
    const file = join(work, 'newer.crl.pem');
    // Whole seconds: CRL times (UTCTime) have no fractions.
    const t0 = new Date(Math.floor((Date.now() - 2 * HOUR) / 1000) * 1000);
    writeFileSync(file, await crlOf(5n, t0));
    const { crls, trust } = storeOver(file);
    expect(trust.validate(seal).valid).toBe(true);
    const before = trust.crls;

    writeFileSync(file, await crlOf(6n, new Date(t0.getTime() + HOUR), { revoked: seal.serialNumber }));
    const report = await refreshCrls({ crls, files: [file] });
    expect(report.refused).toEqual([]);
    expect(report.accepted).toHaveLength(1);
    expect(report.accepted[0]).toMatchObject({ source: file, thisUpdate: new Date(t0.getTime() + HOUR) });
    expect(trust.crls).not.toBe(before);
    expect(trust.crls).toHaveLength(1);
    expect(numberOf(trust.crls[0]!)?.value).toEqual(numberOf(readFileSync(file, 'utf8'))?.value);
    const after = trust.validate(seal);
    expect(after.valid).toBe(false);
    expect(after.findings.map((f) => f.code)).toContain('PKI_CERT_REVOKED');

    // The same file again: nothing new, nothing refused.
    expect(await refreshCrls({ crls, files: [file] })).toEqual({ accepted: [], refused: [] });
  });

  it('refuses an older CRL (rollback) and keeps the one held', async () => {
    const file = join(work, 'rollback.crl.pem');
    const t0 = new Date(Date.now() - HOUR);
    writeFileSync(file, await crlOf(9n, t0, { revoked: seal.serialNumber }));
    const { crls, trust } = storeOver(file);
    const held = trust.crls;
    // Older, and without the revocation: taking it would hide the revocation.
    writeFileSync(file, await crlOf(8n, new Date(t0.getTime() - DAY)));
    const report = await refreshCrls({ crls, files: [file] });
    expect(report.accepted).toEqual([]);
    expect(report.refused).toEqual([expect.objectContaining({ source: file, code: 'PKI_CRL_ROLLBACK' })]);
    expect(trust.crls).toBe(held);
    expect(trust.validate(seal).findings.map((f) => f.code)).toContain('PKI_CERT_REVOKED');
  });

  it('refuses a newer CRL under the CA name signed by another key', async () => {
    const file = join(work, 'forged.crl.pem');
    const t0 = new Date(Date.now() - HOUR);
    writeFileSync(file, await crlOf(3n, t0, { revoked: seal.serialNumber }));
    const { crls, trust } = storeOver(file);
    const held = trust.crls;
    const other = await generateRsaKey(2048);
    writeFileSync(
      file,
      await crlOf(4n, new Date(t0.getTime() + HOUR / 2), { signingKey: other.keys.privateKey }),
    );
    const report = await refreshCrls({ crls, files: [file] });
    expect(report.accepted).toEqual([]);
    expect(report.refused).toEqual([expect.objectContaining({ code: 'PKI_CRL_SIGNATURE_INVALID' })]);
    expect(trust.crls).toBe(held);
    expect(trust.validate(seal).findings.map((f) => f.code)).toContain('PKI_CERT_REVOKED');
  }, 60_000);

  it('keeps the held CRL when the file no longer parses, or is gone', async () => {
    const file = join(work, 'garbled.crl.pem');
    writeFileSync(file, await crlOf(20n, new Date(Date.now() - HOUR)));
    const { crls, trust } = storeOver(file);
    const held = trust.crls;
    writeFileSync(file, '-----BEGIN X509 CRL-----\nMIIBIjANBgkqhkiG9w0BAQEFAAOC\n-----END X509 CRL-----\n');
    const garbled = await refreshCrls({ crls, files: [file] });
    expect(garbled.refused).toEqual([expect.objectContaining({ source: file, code: 'PKI_CRL_MALFORMED' })]);
    const gone = await refreshCrls({ crls, files: [join(work, 'missing.crl.pem')] });
    expect(gone.refused).toEqual([expect.objectContaining({ code: 'PKI_TRUST_STORE_UNREADABLE' })]);
    expect(trust.crls).toBe(held);
    expect(trust.validate(seal).valid).toBe(true);
  });

  it('refuses a CRL whose issuer is no configured certificate', async () => {
    const file = join(work, 'stranger.crl.pem');
    writeFileSync(file, await crlOf(1n, new Date(Date.now() - HOUR)));
    const { crls } = storeOver(file);
    const strangerKey = await generateRsaKey(2048);
    const stranger = await x509.X509CertificateGenerator.createSelfSigned({
      serialNumber: '01',
      name: 'CN=Stranger CA',
      notBefore: new Date(Date.now() - DAY),
      notAfter: new Date(Date.now() + DAY),
      keys: strangerKey.keys,
      signingAlgorithm: { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' },
    });
    const foreign = crlPem(
      await issueCrl(
        { cert: stranger, signingKey: strangerKey.keys.privateKey },
        { crlNumber: 1n, thisUpdate: new Date(), nextUpdate: new Date(Date.now() + DAY), entries: [] },
      ),
    );
    expect(crls.offer(foreign)).toMatchObject({ outcome: 'refused', code: 'PKI_CRL_ISSUER_UNKNOWN' });
  }, 60_000);
});

describe('refreshCrls from CRL Distribution Points over http', () => {
  let server: Server;
  let base: string;
  let served: string | Buffer = '';
  beforeAll(async () => {
    server = createServer((req, res) => {
      if (req.url === '/ca.crl')
        return void res.writeHead(200, { 'content-type': 'application/pkix-crl' }).end(served);
      if (req.url === '/moved.crl') return void res.writeHead(302, { location: `${base}/ca.crl` }).end();
      res.writeHead(404).end();
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise<void>((r) => server.close(() => r())));

  it("fetches the CRL a certificate's distribution point names (DER), and refuses what is not a CRL there", async () => {
    // A certificate of the dev CA naming a distribution point (made by openssl: our factory has no CDP option).
    const dir = mkdtempSync(join(work, 'cdp-'));
    const ext = join(dir, 'ext.cnf');
    writeFileSync(
      ext,
      `[x]\nbasicConstraints=critical,CA:FALSE\ncrlDistributionPoints=URI:https://127.0.0.1/ignored.crl,URI:${base}/ca.crl\n`,
    );
    const run = (args: string[]) => execFileSync('openssl', args, { stdio: 'pipe' });
    run([
      'req',
      '-new',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-keyout',
      join(dir, 'k.pem'),
      '-subj',
      '/CN=CDP leaf',
      '-out',
      join(dir, 'r.csr'),
    ]);
    run([
      'x509',
      '-req',
      '-in',
      join(dir, 'r.csr'),
      '-CA',
      pki.caCert,
      '-CAkey',
      pki.caKey,
      '-CAcreateserial',
      '-CAserial',
      join(dir, 'ca.srl'),
      '-days',
      '2',
      '-extfile',
      ext,
      '-extensions',
      'x',
      '-out',
      join(dir, 'c.pem'),
    ]);
    const leaf = new X509Certificate(readFileSync(join(dir, 'c.pem')));
    const urls = crlDistributionPointUrls(leaf);
    expect(urls).toEqual([`${base}/ca.crl`]); // https is not fetched

    const file = join(work, 'cdp-held.crl.pem');
    writeFileSync(file, await crlOf(30n, new Date(Date.now() - 2 * HOUR)));
    const { crls, trust } = storeOver(file);
    const newer = await crlOf(31n, new Date(Date.now() - HOUR), { revoked: leaf.serialNumber });
    served = Buffer.from(new x509.X509Crl(newer).rawData);
    const report = await refreshCrls({ crls, files: [file], urls });
    // The file's CRL is older than the fetched one: superseded in the same round, not reported as a rollback.
    expect(report.refused).toEqual([]);
    expect(report.accepted).toEqual([expect.objectContaining({ source: `${base}/ca.crl` })]);
    expect(trust.validate(leaf).findings.map((f) => f.code)).toContain('PKI_CERT_REVOKED');

    served = '<html>maintenance</html>';
    const notACrl = await refreshCrls({ crls, urls: [...urls, `${base}/moved.crl`, `${base}/nothing.crl`] });
    expect(notACrl.accepted).toEqual([]);
    expect(notACrl.refused.map((r) => r.code).sort()).toEqual([
      'PKI_CRL_FETCH_FAILED',
      'PKI_CRL_FETCH_FAILED',
      'PKI_CRL_MALFORMED',
    ]);
    expect(trust.validate(leaf).findings.map((f) => f.code)).toContain('PKI_CERT_REVOKED');
  }, 60_000);

  it('refuses a CRL larger than maxBytes while it arrives', async () => {
    served = Buffer.alloc(64 * 1024, 0x30);
    const { crls } = storeOver(pki.caCrl);
    const report = await refreshCrls({ crls, urls: [`${base}/ca.crl`], maxBytes: 1024 });
    expect(report.refused).toEqual([
      expect.objectContaining({ code: 'PKI_CRL_FETCH_FAILED', reason: expect.stringContaining('1024') }),
    ]);
  });
});

describe('qerds pki crl', () => {
  it('re-issues the dev CA CRL: openssl verifies it under the CA, its number grew, revoked entries kept', async () => {
    const dir = join(work, 'cli-pki');
    await devTestPki(dir, { aps: ['c2'], recipients: [] });
    const crlFile = join(dir, 'ca', 'ca.crl.pem');
    const caFile = join(dir, 'ca', 'ca.crt.pem');
    await revokeCertificate(devPkiLayout(dir), readFileSync(join(dir, 'c2', 'seal.crt.pem'), 'utf8'));
    const crlNumber = () =>
      Number(
        /X509v3 CRL Number:\s*\n\s*(\d+)/.exec(
          execFileSync('openssl', ['crl', '-in', crlFile, '-noout', '-text'], { encoding: 'utf8' }),
        )![1],
      );
    const before = crlNumber();

    const r = qerdsLaunched(['pki', 'crl', '--dir', dir, '--days', '2']);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(r.stdout).toContain(`CRL number ${before + 1}`);

    const verify = spawnSync('openssl', ['crl', '-in', crlFile, '-CAfile', caFile, '-verify', '-noout'], {
      encoding: 'utf8',
    });
    expect(verify.stderr.trim()).toBe('verify OK');
    expect(verify.status).toBe(0);
    expect(crlNumber()).toBe(before + 1);
    const text = execFileSync('openssl', ['crl', '-in', crlFile, '-noout', '-text'], { encoding: 'utf8' });
    const sealSerial = new X509Certificate(readFileSync(join(dir, 'c2', 'seal.crt.pem'))).serialNumber;
    expect(text.replace(/\s/g, '').toLowerCase()).toContain(`serialnumber:${sealSerial.toLowerCase()}`);
    const next = new Date(/Next Update: (.+)/.exec(text)![1]!);
    const last = new Date(/Last Update: (.+)/.exec(text)![1]!);
    expect(next.getTime() - last.getTime()).toBe(2 * DAY);

    // In this process: the launch above proved the entry point.
    const bad = await qerdsInProcess(['pki', 'crl', '--dir', dir, '--days', 'soon']);
    expect(bad.status).not.toBe(0);
    expect(bad.stderr).toContain('--days');
    expect(crlNumber()).toBe(before + 1);
  }, 180_000);
});
