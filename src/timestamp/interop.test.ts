import { execFileSync, spawnSync } from 'node:child_process';
import { createHash, X509Certificate } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { opensslTsa, OPENSSL_TSA_POLICY } from '../../test/helpers/openssl-tsa.js';
import { sharedTestPki, devTestPki, foreignTestPki } from '../../test/helpers/pki.js';
import type { MessageImprint } from '../core/ports.js';
import { createTrustStore, loadSigningIdentity, type DevPkiLayout } from '../pki/index.js';
import {
  DEV_TSA_POLICY,
  acceptTimestampResponse,
  createTimestampAuthority,
  encodeTimestampRequest,
  verifyTimestampToken,
  type TimestampAuthority,
} from './index.js';

const run = (args: string[]) => {
  const r = spawnSync('openssl', args, { encoding: 'utf8' });
  return { status: r.status, output: `${r.stdout}${r.stderr}` };
};
const errors = (v: { findings: readonly { code: string; severity: string }[] }) =>
  v.findings.filter((f) => f.severity === 'error').map((f) => f.code);
const sha256 = (data: Buffer | string): MessageImprint => ({
  algorithm: 'sha256',
  digest: createHash('sha256').update(data).digest(),
});

let work: string;
let devPki: DevPkiLayout;
const pkis: Record<string, () => DevPkiLayout> = {
  'openssl-made shared PKI': () => sharedTestPki(),
  'initDevPki output': () => devPki,
};

beforeAll(async () => {
  work = mkdtempSync(join(tmpdir(), 'qerds-tsa-interop-'));
  devPki = await devTestPki(join(work, 'pki'));
});
afterAll(() => rmSync(work, { recursive: true, force: true }));

function tsaOf(
  pki: DevPkiLayout,
  extra: Partial<Parameters<typeof createTimestampAuthority>[0]> = {},
): TimestampAuthority {
  return createTimestampAuthority({ identity: loadSigningIdentity(pki.tsaCert, pki.tsaKey), ...extra });
}

describe.each(Object.keys(pkis))('our TSA, checked by openssl, with the %s', (name) => {
  let pki: DevPkiLayout;
  let dir: string;
  beforeAll(() => {
    pki = pkis[name]!();
    dir = mkdtempSync(join(work, 'case-'));
  });

  it('issues tokens that openssl ts -verify accepts, by digest and by data, with and without the certificate', async () => {
    const tsa = tsaOf(pki);
    const data = join(dir, 'data.bin');
    writeFileSync(data, 'registered delivery payload\n');
    const imprint = sha256(readFileSync(data));
    for (const certReq of [true, false]) {
      const { der } = encodeTimestampRequest(imprint, { certReq });
      const resp = join(dir, `resp-${certReq}.tsr`);
      writeFileSync(resp, await tsa.respond(der));
      const byDigest = run([
        'ts',
        '-verify',
        '-digest',
        imprint.digest.toString('hex'),
        '-in',
        resp,
        '-CAfile',
        pki.caCert,
        '-untrusted',
        pki.tsaCert,
      ]);
      expect(byDigest.output).toContain('Verification: OK');
      const byData = run([
        'ts',
        '-verify',
        '-data',
        data,
        '-in',
        resp,
        '-CAfile',
        pki.caCert,
        '-untrusted',
        pki.tsaCert,
      ]);
      expect(byData.output).toContain('Verification: OK');
      // and it fails for other data: the check can fail
      const other = run([
        'ts',
        '-verify',
        '-digest',
        sha256('other').digest.toString('hex'),
        '-in',
        resp,
        '-CAfile',
        pki.caCert,
        '-untrusted',
        pki.tsaCert,
      ]);
      expect(other.status).not.toBe(0);
      expect(other.output).toContain('message imprint mismatch');
    }
  });

  it('answers a request made by openssl ts -query (granted, our policy, nonce echoed, ESSCertIDv2)', async () => {
    const tsa = tsaOf(pki);
    const data = join(dir, 'q.txt');
    writeFileSync(data, 'query me');
    const query = join(dir, 'q.tsq');
    execFileSync('openssl', ['ts', '-query', '-data', data, '-sha256', '-cert', '-out', query], {
      stdio: 'pipe',
    });
    const resp = join(dir, 'q.tsr');
    writeFileSync(resp, await tsa.respond(readFileSync(query)));
    const text = run(['ts', '-reply', '-in', resp, '-text']).output;
    expect(text).toContain('Status: Granted.');
    expect(text).toContain(`Policy OID: ${DEV_TSA_POLICY}`);
    const nonce = /Nonce: (0x[0-9A-F]+)/.exec(run(['ts', '-query', '-in', query, '-text']).output)?.[1];
    expect(nonce).toBeDefined();
    expect(text).toContain(`Nonce: ${nonce}`);
    expect(run(['ts', '-verify', '-queryfile', query, '-in', resp, '-CAfile', pki.caCert]).output).toContain(
      'Verification: OK',
    );
    // RFC 5816: id-aa-signingCertificateV2 in the signed attributes
    const token = join(dir, 'q.tok');
    execFileSync('openssl', ['ts', '-reply', '-in', resp, '-token_out', '-out', token], { stdio: 'pipe' });
    const cms = run(['cms', '-cmsout', '-print', '-inform', 'DER', '-in', token]).output;
    expect(cms).toContain('id-smime-aa-signingCertificateV2');
    expect(cms).toContain('signingTime');
  });

  it('accepts a token from an independent TSA (openssl ts -reply)', async () => {
    const imprint = sha256('independent');
    const token = await opensslTsa(pki).timestamp(imprint);
    const v = await verifyTimestampToken(token.der, {
      imprint,
      trust: createTrustStore([new X509Certificate(readFileSync(pki.caCert))]),
    });
    expect(errors(v)).toEqual([]);
    expect(v.valid).toBe(true);
    expect(v.policy).toBe(OPENSSL_TSA_POLICY);
    expect(BigInt(`0x${v.serialNumber}`)).toBe(BigInt(`0x${token.serialNumber}`));
    expect(v.tsaCertificate?.subject).toContain('TSA');
  });
});

describe('verifyTimestampToken', () => {
  let tsa: TimestampAuthority;
  let trust: ReturnType<typeof createTrustStore>;
  const imprint = sha256('evidence');
  const tokenOf = async (t: TimestampAuthority, i: MessageImprint = imprint, certReq = true) => {
    const { der, nonce } = encodeTimestampRequest(i, { certReq });
    const resp = await t.respond(der);
    return (await acceptTimestampResponse(resp, { imprint: i, nonce })).der;
  };
  beforeAll(() => {
    tsa = tsaOf(devPki, { clock: { now: () => new Date(Date.now() - 60_000) }, serialNumber: () => 42n });
    trust = createTrustStore([new X509Certificate(readFileSync(devPki.caCert))], {
      crls: [readFileSync(devPki.caCrl)],
    });
  });

  it('accepts our token and reports genTime, policy, serial, TSA certificate', async () => {
    const v = await verifyTimestampToken(await tokenOf(tsa), { data: Buffer.from('evidence'), trust });
    expect(errors(v)).toEqual([]);
    expect(v.valid).toBe(true);
    expect(v.policy).toBe(DEV_TSA_POLICY);
    expect(v.serialNumber).toBe('2a');
    expect(Math.abs(v.genTime!.getTime() - (Date.now() - 60_000))).toBeLessThan(5_000);
    expect(v.tsaCertificate?.subject).toContain('qerds-ap DEV ONLY TSA');
  });

  it('rejects another imprint', async () => {
    const token = await tokenOf(tsa);
    expect(errors(await verifyTimestampToken(token, { imprint: sha256('forged'), trust }))).toEqual([
      'TSA_IMPRINT_MISMATCH',
    ]);
    expect(errors(await verifyTimestampToken(token, { data: Buffer.from('forged'), trust }))).toEqual([
      'TSA_IMPRINT_MISMATCH',
    ]);
  });

  it('rejects a token from a TSA outside the trust store', async () => {
    const v = await verifyTimestampToken(await tokenOf(tsaOf(foreignTestPki())), { imprint, trust });
    expect(v.valid).toBe(false);
    expect(errors(v)).toEqual(['TSA_CERT_UNTRUSTED', 'PKI_PATH_NOT_FOUND']);
  });

  it('rejects a token whose TSA certificate was not valid at genTime', async () => {
    const late = tsaOf(devPki, { clock: { now: () => new Date(Date.now() + 5 * 365 * 86_400_000) } });
    const v = await verifyTimestampToken(await tokenOf(late), { imprint, trust });
    // Five years on, the trust store's 30-day CRL says nothing about that time either (CRL freshness).
    expect(errors(v)).toEqual(['TSA_CERT_UNTRUSTED', 'PKI_CERT_EXPIRED', 'PKI_REVOCATION_STALE']);
  });

  it('rejects a token signed with a certificate that is not a TSA certificate', async () => {
    const sealTsa = createTimestampAuthority({
      identity: loadSigningIdentity(devPki.ap('c2').sealCert, devPki.ap('c2').sealKey),
    });
    const { der } = encodeTimestampRequest(imprint, { certReq: true });
    const resp = readResponseToken(await sealTsa.respond(der));
    expect(errors(await verifyTimestampToken(resp, { imprint, trust }))).toEqual([
      'TSA_NOT_TIMESTAMPING_CERT',
    ]);
  });

  it('needs the TSA certificate when the token does not carry it', async () => {
    const token = await tokenOf(tsa, imprint, false).catch(() => undefined);
    // acceptTimestampResponse refuses it (no signer certificate to check); verify with the certificate given
    expect(token).toBeUndefined();
    const { der } = encodeTimestampRequest(imprint, { certReq: false });
    const bare = readResponseToken(await tsa.respond(der));
    expect(errors(await verifyTimestampToken(bare, { imprint, trust }))).toEqual(['TSA_SIGNER_CERT_MISSING']);
    const v = await verifyTimestampToken(bare, { imprint, trust, certificates: [tsa.certificate] });
    expect(v.valid).toBe(true);
  });

  it('rejects every single-byte tampering of the token', async () => {
    const token = await tokenOf(tsa);
    const { tstStart, tstEnd } = locate(token, Buffer.from('evidence'));
    // Flip one byte in several regions: TSTInfo, signed attributes, signature, and the embedded certificate.
    const offsets = [
      tstStart + 2,
      tstEnd - 3,
      token.length - 10,
      token.length - 300,
      Math.floor(token.length / 2),
      5,
    ];
    for (const offset of offsets) {
      const tampered = Buffer.from(token);
      tampered[offset] = (tampered[offset] ?? 0) ^ 0x01;
      const v = await verifyTimestampToken(tampered, { imprint, trust });
      expect(v.valid, `byte ${offset}`).toBe(false);
      expect(
        errors(v).some((c) =>
          [
            'TSA_SIGNATURE_INVALID',
            'TSA_TOKEN_MALFORMED',
            'TSA_IMPRINT_MISMATCH',
            'TSA_SIGNER_CERT_MISSING',
            'TSA_SIGNING_CERT_MISMATCH',
          ].includes(c),
        ),
        `byte ${offset}: ${errors(v).join()}`,
      ).toBe(true);
    }
  });

  it('accepts an openssl token that names its certificate by ESSCertID (SHA-1, v1), and flags it', async () => {
    const shared = sharedTestPki();
    const dir = mkdtempSync(join(work, 'ess-v1-'));
    const config = join(dir, 'tsa.cnf');
    writeFileSync(join(dir, 'serial'), '01\n');
    writeFileSync(
      config,
      `[tsa]\ndefault_tsa = t\n[t]\nserial = ${join(dir, 'serial')}\nsigner_cert = ${shared.tsaCert}\nsigner_key = ${shared.tsaKey}\n` +
        `signer_digest = sha256\ndefault_policy = 1.2.3.4.5\ndigests = sha256\ness_cert_id_chain = no\n`,
    );
    const q = join(dir, 'q.tsq');
    const t = join(dir, 't.der');
    execFileSync('openssl', [
      'ts',
      '-query',
      '-sha256',
      '-digest',
      imprint.digest.toString('hex'),
      '-cert',
      '-out',
      q,
    ]);
    execFileSync('openssl', ['ts', '-reply', '-config', config, '-queryfile', q, '-token_out', '-out', t], {
      stdio: 'pipe',
    });
    const sharedTrust = createTrustStore([new X509Certificate(readFileSync(shared.caCert))]);
    const v = await verifyTimestampToken(readFileSync(t), { imprint, trust: sharedTrust });
    expect(errors(v)).toEqual([]);
    expect(v.findings.map((f) => f.code)).toContain('TSA_ESS_CERT_ID_V1');
    // the same token does not bind to a different certificate with that name
    expect(errors(await verifyTimestampToken(readFileSync(t), { imprint, trust }))).toContain(
      'TSA_CERT_UNTRUSTED',
    );
  });

  it('reports garbage as malformed', async () => {
    expect(errors(await verifyTimestampToken(Buffer.from('not a token'), { imprint }))).toEqual([
      'TSA_TOKEN_MALFORMED',
    ]);
  });
});

describe('ECDSA TSA keys', () => {
  it('signs with ecdsa-with-SHA384 for a P-384 key; openssl and verifyTimestampToken accept the token', async () => {
    const dir = mkdtempSync(join(work, 'ec-'));
    const key = join(dir, 'tsa.key');
    const cert = join(dir, 'tsa.crt');
    const o = (...args: string[]) => execFileSync('openssl', args, { stdio: 'pipe' });
    o('genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-384', '-out', key);
    o(
      'req',
      '-new',
      '-key',
      key,
      '-subj',
      '/C=JP/O=qerds-ap DEV ONLY/CN=EC TSA',
      '-out',
      join(dir, 'tsa.csr'),
    );
    writeFileSync(
      join(dir, 'ext.cnf'),
      '[x]\nbasicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=critical,timeStamping\n',
    );
    o(
      'x509',
      '-req',
      '-in',
      join(dir, 'tsa.csr'),
      '-CA',
      devPki.caCert,
      '-CAkey',
      devPki.caKey,
      '-set_serial',
      '77',
      '-days',
      '30',
      '-extfile',
      join(dir, 'ext.cnf'),
      '-extensions',
      'x',
      '-out',
      cert,
    );
    const tsa = createTimestampAuthority({ identity: loadSigningIdentity(cert, key) });
    const imprint = sha256('ec');
    const { der, nonce } = encodeTimestampRequest(imprint, { certReq: true });
    const resp = join(dir, 'r.tsr');
    writeFileSync(resp, await tsa.respond(der));
    expect(
      run(['ts', '-verify', '-digest', imprint.digest.toString('hex'), '-in', resp, '-CAfile', devPki.caCert])
        .output,
    ).toContain('Verification: OK');
    const token = await acceptTimestampResponse(readFileSync(resp), { imprint, nonce });
    const trust = createTrustStore([new X509Certificate(readFileSync(devPki.caCert))]);
    expect(errors(await verifyTimestampToken(token.der, { imprint, trust }))).toEqual([]);
    const tokenFile = join(dir, 't.der');
    writeFileSync(tokenFile, token.der);
    expect(run(['cms', '-cmsout', '-print', '-inform', 'DER', '-in', tokenFile]).output).toContain(
      'ecdsa-with-SHA384',
    );
  });
});

describe('request rejections, as openssl reads them', () => {
  const failureOf = async (tsa: TimestampAuthority, request: Buffer) => {
    const dir = mkdtempSync(join(work, 'rej-'));
    writeFileSync(join(dir, 'r.tsr'), await tsa.respond(request));
    return run(['ts', '-reply', '-in', join(dir, 'r.tsr'), '-text']).output;
  };
  const query = (...args: string[]) => execFileSync('openssl', ['ts', '-query', ...args]);

  it('badDataFormat for an undecodable request', async () => {
    const text = await failureOf(tsaOf(devPki), Buffer.from('GET / HTTP/1.1\r\n'));
    expect(text).toContain('Status: Rejected.');
    expect(text).toContain('Failure info: the data submitted has the wrong format');
  });

  it('badAlg for a SHA-1 imprint', async () => {
    const text = await failureOf(tsaOf(devPki), query('-digest', 'a'.repeat(40), '-sha1'));
    expect(text).toContain('Status: Rejected.');
    expect(text).toContain('Failure info: unrecognized or unsupported algorithm identifier');
  });

  it('unacceptedPolicy for a policy the TSA does not offer', async () => {
    const text = await failureOf(
      tsaOf(devPki),
      query('-digest', 'a'.repeat(64), '-sha256', '-tspolicy', '1.2.3.4'),
    );
    expect(text).toContain('Failure info: the requested TSA policy is not supported by the TSA');
  });
});

/** The timeStampToken of a DER TimeStampResp (second element of the outer SEQUENCE). */
function readResponseToken(resp: Buffer): Buffer {
  // SEQUENCE { PKIStatusInfo (3 bytes short form: 30 03 02 01 00), token }
  const headerLen = (resp[1] ?? 0) & 0x80 ? 2 + ((resp[1] ?? 0) & 0x7f) : 2;
  return resp.subarray(headerLen + 5);
}

function locate(token: Buffer, _data: Buffer): { tstStart: number; tstEnd: number } {
  // The TSTInfo holds the policy OID; find it to aim one flip inside the TSTInfo.
  const policy = Buffer.from([0x06, 0x0a, 0x2b, 0x06, 0x01, 0x04, 0x01, 0x81, 0xfd, 0x59, 0x01, 0x01]);
  const at = token.indexOf(policy);
  if (at < 0) throw new Error('policy OID not found in token');
  return { tstStart: at, tstEnd: at + 80 };
}
