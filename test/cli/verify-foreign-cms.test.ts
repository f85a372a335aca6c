import { execFileSync } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { readSignedData } from '../../src/crypto/signed-data-read.js';
import { verifyAny } from '../../src/evidence/index.js';
import { loadTrustStore, type TrustStore } from '../../src/pki/index.js';
import type { DevPkiLayout } from '../../src/pki/types.js';
import { foreignTestPki } from '../helpers/pki.js';
import { qerdsInProcess } from '../helpers/cli.js';

const root = fileURLToPath(new URL('../..', import.meta.url));
const dss = join(root, 'test/fixtures/crypto/foreign/esig-dss');
const fixture = (name: string) => readFileSync(join(dss, name));

/** `qerds <args>` in-process (test/helpers/cli.ts); the real launch of `qerds verify` is in verify-command.test.ts. */
const qerds = (...args: string[]) => qerdsInProcess(args);

interface Verdict {
  kind: string;
  valid: boolean;
  indication: string;
  subIndication?: string;
  level?: string;
  ber?: boolean;
  findings: { code: string; severity: string }[];
}

async function verdict(
  bytes: Buffer,
  trust: TrustStore,
  extra: { at?: Date; content?: Buffer[]; expectedCertificate?: X509Certificate } = {},
): Promise<Verdict> {
  const r = await verifyAny(bytes, { trust, ...extra });
  const json = JSON.parse(r.json) as Verdict;
  expect(r.valid).toBe(json.indication === 'TOTAL-PASSED');
  return { ...json, kind: r.kind, valid: r.valid };
}

/** One character changed at the first occurrence of `from` (which must be there). */
function changeOne(bytes: Buffer, from: string, to: string): Buffer {
  const at = bytes.indexOf(from, 0, 'latin1');
  expect(at).toBeGreaterThanOrEqual(0);
  const out = Buffer.from(bytes);
  out.write(to, at, 'latin1');
  return out;
}

describe('verify what other products sign: EU DSS test material (esig/dss)', () => {
  it('D-Trust qualified TSA token, RSASSA-PSS: TOTAL-PASSED under its TSU certificate, one changed signature byte TOTAL-FAILED', async () => {
    const token = fixture('d-trust.tsr');
    const at = new Date('2018-06-01T00:00:00Z');
    const tsu = loadTrustStore([join(dss, 'd-trust-tsu-12-2017.cert.pem')]);
    const ok = await verdict(token, tsu, { at });
    expect(ok).toMatchObject({ kind: 'timestamp-token', indication: 'TOTAL-PASSED' });
    const forged = Buffer.from(token);
    forged[forged.length - 1]! ^= 0x01; // the last octet of the PSS signature value
    expect(await verdict(forged, tsu, { at })).toMatchObject({
      indication: 'TOTAL-FAILED',
      subIndication: 'SIG_CRYPTO_FAILURE',
    });
  });

  it('D-Trust token under the root CA alone: the signature verifies, but no CRL/OCSP for the TSU: INDETERMINATE/TRY_LATER', async () => {
    const r = await verdict(
      fixture('d-trust.tsr'),
      loadTrustStore([join(dss, 'd-trust-root-ca-1-2017.cert.pem')]),
      { at: new Date('2018-06-01T00:00:00Z') },
    );
    expect(r).toMatchObject({ indication: 'INDETERMINATE', subIndication: 'TRY_LATER' });
    expect(r.findings.map((f) => f.code)).toContain('SIGNER_REVOCATION_UNKNOWN');
    expect(r.findings.map((f) => f.code)).not.toContain('TSA_SIGNATURE_INVALID');
  });

  it('ETSI plugtests token in BER (indefinite lengths, an OCSP "other" revocation entry): TOTAL-PASSED; a changed genTime digit TOTAL-FAILED', async () => {
    const token = fixture('tst_with_broken_ocsp.tst');
    expect(token.subarray(0, 2)).toEqual(Buffer.from([0x30, 0x80]));
    const tsa = loadTrustStore([join(dss, 'etsi-plugtests-tsa.cert.pem')]);
    const at = new Date('2016-12-28T00:00:00Z');
    expect(await verdict(token, tsa, { at })).toMatchObject({
      kind: 'timestamp-token',
      indication: 'TOTAL-PASSED',
      ber: true,
    });
    const changed = changeOne(token, '20161227182502', '20161227182503');
    expect(await verdict(changed, tsa, { at })).toMatchObject({
      indication: 'TOTAL-FAILED',
      subIndication: 'SIG_CRYPTO_FAILURE',
    });
  });

  it('IZENPE CAdES-B-T (attached, signature-time-stamp): TOTAL-PASSED as CAdES-B-T; one changed content character TOTAL-FAILED/HASH_FAILURE', async () => {
    const cms = fixture('CAdES-BpT.p7m');
    const trust = loadTrustStore([
      join(dss, 'izenpe-signer.cert.pem'),
      join(dss, 'izenpe-tsa-subca.cert.pem'),
    ]);
    const at = new Date('2024-07-15T00:00:00Z');
    const ok = await verdict(cms, trust, { at });
    expect(ok).toMatchObject({ kind: 'cades', indication: 'TOTAL-PASSED', level: 'CAdES-B-T' });
    const content = readSignedData(cms).eContent!;
    const changed = changeOne(
      cms,
      content.subarray(0, 8).toString('latin1'),
      String.fromCharCode(content[0]! ^ 0x01),
    );
    expect(await verdict(changed, trust, { at })).toMatchObject({
      kind: 'cades',
      indication: 'TOTAL-FAILED',
      subIndication: 'HASH_FAILURE',
    });
  });

  it('DSS sample whose signature-time-stamp imprint was modified: TOTAL-FAILED/HASH_FAILURE, not "malformed timestamp"', async () => {
    const trust = loadTrustStore([join(dss, 'izenpe-signer.cert.pem')]);
    const r = await verdict(fixture('CAdES-BpT_modified_ts_hash.p7m'), trust, {
      at: new Date('2024-07-15T00:00:00Z'),
    });
    expect(r).toMatchObject({ kind: 'cades', indication: 'TOTAL-FAILED', subIndication: 'HASH_FAILURE' });
    expect(r.findings.map((f) => f.code)).toContain('SEAL_TIMESTAMP_HASH_FAILURE');
  });

  it('Nowina CAdES-B-B over SignedData content, chained to its CA without CRL: signature checked, INDETERMINATE/TRY_LATER', async () => {
    const r = await verdict(
      fixture('cades-bes-signeddata-enveloping.p7m'),
      loadTrustStore([join(dss, 'nowina-good-ca.cert.pem')]),
      { at: new Date('2024-11-08T00:00:00Z') },
    );
    expect(r).toMatchObject({
      kind: 'cades',
      indication: 'INDETERMINATE',
      subIndication: 'TRY_LATER',
      level: 'CAdES-B-B',
    });
  });
});

describe('verify what other products sign: digitorus/timestamp material', () => {
  it('a GlobalSign TimeStampResp without the TSA certificate: read, INDETERMINATE/NO_SIGNING_CERTIFICATE_FOUND (not a format failure)', async () => {
    const resp = readFileSync(join(root, 'test/fixtures/crypto/foreign/digitorus-timestamp/respNoCert.tsr'));
    const r = await verdict(resp, loadTrustStore([join(dss, 'd-trust-root-ca-1-2017.cert.pem')]));
    expect(r).toMatchObject({
      kind: 'timestamp-token',
      indication: 'INDETERMINATE',
      subIndication: 'NO_SIGNING_CERTIFICATE_FOUND',
    });
  });
});

describe(
  'verify what openssl signs: CAdES attached / detached / BER / RSASSA-PSS, tokens without the TSA certificate',
  { timeout: 180_000 },
  () => {
    const dir = mkdtempSync(join(tmpdir(), 'qerds-foreign-cms-'));
    const path = (name: string) => join(dir, name);
    let pki: DevPkiLayout;
    let trust: TrustStore;
    let noCrl: TrustStore;
    const document = Buffer.from('Contract text, signed by openssl.\n');

    const sign = (out: string, ...extra: string[]) =>
      execFileSync(
        'openssl',
        [
          'cms',
          '-sign',
          '-cades',
          '-binary',
          '-md',
          'sha256',
          '-in',
          path('doc.txt'),
          '-signer',
          pki.ap('c2').sealCert,
          '-inkey',
          pki.ap('c2').sealKey,
          '-outform',
          'DER',
          '-out',
          path(out),
          ...extra,
        ],
        { stdio: 'pipe' },
      );

    beforeAll(async () => {
      pki = foreignTestPki();
      trust = loadTrustStore([pki.caCert, pki.caCrl]);
      noCrl = loadTrustStore([pki.caCert]);
      writeFileSync(path('doc.txt'), document);
      sign('attached.p7m', '-nodetach');
      sign('detached.p7s');
      // -stream writes BER: indefinite lengths and a constructed eContent OCTET STRING.
      sign('ber.p7m', '-nodetach', '-stream');
      sign('pss.p7m', '-nodetach', '-keyopt', 'rsa_padding_mode:pss');
      // An openssl TSA whose tokens leave out the TSA certificate (the query does not ask for it).
      writeFileSync(path('serial'), '01\n');
      writeFileSync(
        path('tsa.cnf'),
        [
          '[tsa]',
          'default_tsa = t',
          '[t]',
          `serial = ${path('serial')}`,
          'crypto_device = builtin',
          `signer_cert = ${pki.tsaCert}`,
          `signer_key = ${pki.tsaKey}`,
          'signer_digest = sha256',
          'default_policy = 1.2.3.4.1',
          'digests = sha256',
          'ess_cert_id_alg = sha256',
          '',
        ].join('\n'),
      );
      execFileSync(
        'openssl',
        ['ts', '-query', '-data', path('doc.txt'), '-sha256', '-no_nonce', '-out', path('q.tsq')],
        { stdio: 'pipe' },
      );
      execFileSync(
        'openssl',
        [
          'ts',
          '-reply',
          '-config',
          path('tsa.cnf'),
          '-queryfile',
          path('q.tsq'),
          '-out',
          path('nocerts.tsr'),
        ],
        { stdio: 'pipe' },
      );
    });

    it('openssl verifies what we are about to judge (independent reference)', async () => {
      for (const f of ['attached.p7m', 'ber.p7m', 'pss.p7m']) {
        execFileSync(
          'openssl',
          ['cms', '-verify', '-inform', 'DER', '-in', path(f), '-CAfile', pki.caCert, '-out', '/dev/null'],
          { stdio: 'pipe' },
        );
      }
      expect(readFileSync(path('ber.p7m')).subarray(0, 2)).toEqual(Buffer.from([0x30, 0x80]));
      const printed = execFileSync(
        'openssl',
        ['cms', '-cmsout', '-print', '-inform', 'DER', '-in', path('pss.p7m')],
        { encoding: 'utf8' },
      );
      expect(printed).toContain('rsassaPss');
    });

    it('attached, BER and RSASSA-PSS CAdES: TOTAL-PASSED as CAdES-B-B with its signed attributes; one changed content character TOTAL-FAILED/HASH_FAILURE', async () => {
      for (const f of ['attached.p7m', 'ber.p7m', 'pss.p7m']) {
        const cms = readFileSync(path(f));
        const ok = await verdict(cms, trust);
        expect(ok, f).toMatchObject({
          kind: 'cades',
          indication: 'TOTAL-PASSED',
          level: 'CAdES-B-B',
          ber: f === 'ber.p7m',
        });
        expect(
          (JSON.parse((await verifyAny(cms, { trust })).json) as { signedAttributes: string[] })
            .signedAttributes,
        ).toEqual(
          expect.arrayContaining([
            'content-type',
            'signing-time',
            'message-digest',
            'signing-certificate-v2',
          ]),
        );
        expect(await verdict(changeOne(cms, 'Contract', 'K'), trust), f).toMatchObject({
          indication: 'TOTAL-FAILED',
          subIndication: 'HASH_FAILURE',
        });
      }
    });

    it('detached CAdES: TOTAL-PASSED with the document, INDETERMINATE/SIGNED_DATA_NOT_FOUND without, TOTAL-FAILED/HASH_FAILURE with a changed one', async () => {
      const cms = readFileSync(path('detached.p7s'));
      expect(await verdict(cms, trust, { content: [document] })).toMatchObject({
        kind: 'cades',
        indication: 'TOTAL-PASSED',
      });
      expect(await verdict(cms, trust)).toMatchObject({
        kind: 'cades',
        indication: 'INDETERMINATE',
        subIndication: 'SIGNED_DATA_NOT_FOUND',
      });
      expect(await verdict(cms, trust, { content: [changeOne(document, 'C', 'K')] })).toMatchObject({
        indication: 'TOTAL-FAILED',
        subIndication: 'HASH_FAILURE',
      });
    });

    it('the signer revocation status unknown (CA given without its CRL): INDETERMINATE/TRY_LATER, not PASSED', async () => {
      expect(await verdict(readFileSync(path('attached.p7m')), noCrl)).toMatchObject({
        indication: 'INDETERMINATE',
        subIndication: 'TRY_LATER',
      });
    });

    it('a token without the TSA certificate: INDETERMINATE/NO_SIGNING_CERTIFICATE_FOUND alone, TOTAL-PASSED with --cert; another --cert refused', async () => {
      const token = readFileSync(path('nocerts.tsr'));
      expect(readSignedData(readSignedToken(token)).certificates).toHaveLength(0);
      expect(await verdict(token, trust, { content: [document] })).toMatchObject({
        indication: 'INDETERMINATE',
        subIndication: 'NO_SIGNING_CERTIFICATE_FOUND',
      });
      const tsaCert = new X509Certificate(readFileSync(pki.tsaCert));
      expect(
        await verdict(token, trust, { content: [document], expectedCertificate: tsaCert }),
      ).toMatchObject({ kind: 'timestamp-token', indication: 'TOTAL-PASSED' });
      expect(
        await verdict(token, trust, {
          content: [changeOne(document, 'C', 'K')],
          expectedCertificate: tsaCert,
        }),
      ).toMatchObject({ indication: 'TOTAL-FAILED', subIndication: 'HASH_FAILURE' });
      const other = new X509Certificate(readFileSync(pki.ap('c3').sealCert));
      expect((await verdict(token, trust, { content: [document], expectedCertificate: other })).valid).toBe(
        false,
      );
    });

    it('CLI: --document and --cert, JSON for every outcome (file missing, unknown kind) with exit 2, names on one line', async () => {
      const trustArgs = ['--trust', pki.caCert, '--trust', pki.caCrl];
      const ok = await qerds(
        'verify',
        path('detached.p7s'),
        '--document',
        path('doc.txt'),
        '--cert',
        pki.ap('c2').sealCert,
        ...trustArgs,
        '--json',
      );
      expect(ok.status, ok.stderr).toBe(0);
      const report = JSON.parse(ok.stdout) as {
        kind: string;
        indication: string;
        signer: { subject: string };
      };
      expect(report).toMatchObject({ kind: 'cades', indication: 'TOTAL-PASSED' });
      expect(report.signer.subject).toMatch(
        /^C=JP, O=Foreign Dev, organizationIdentifier=urn:qerds-ap:ap:c2, CN=Foreign AP c2 e-seal$/,
      );
      const words = await qerds(
        'verify',
        path('nocerts.tsr'),
        '--document',
        path('doc.txt'),
        '--expect-cert',
        pki.tsaCert,
        ...trustArgs,
      );
      expect(words.status, words.stderr).toBe(0);
      expect(words.stdout).toMatch(/^VALID\n/);
      expect(words.stdout).toMatch(/^TSA: +C=JP, O=Foreign Dev, CN=Foreign TSA$/m);
      const missing = await qerds('verify', path('nope.p7m'), ...trustArgs, '--json');
      expect(missing.status).toBe(2);
      expect(JSON.parse(missing.stdout)).toMatchObject({ valid: false, error: { code: 'FILE_NOT_FOUND' } });
      writeFileSync(path('junk.bin'), Buffer.from('not a proof of anything'));
      const junk = await qerds('verify', path('junk.bin'), ...trustArgs, '--json');
      expect(junk.status).toBe(2);
      expect(JSON.parse(junk.stdout)).toMatchObject({
        kind: 'unknown',
        valid: false,
        error: { code: 'EVIDENCE_MALFORMED' },
      });
    });
  },
);

/** The token inside a TimeStampResp (`openssl ts -reply` without -token_out): the second element. */
function readSignedToken(resp: Buffer): Buffer {
  // TimeStampResp ::= SEQUENCE { status PKIStatusInfo, timeStampToken }: skip the outer header and the status.
  const headerLength = (b: Buffer, at: number) => (b[at + 1]! & 0x80 ? 2 + (b[at + 1]! & 0x7f) : 2);
  const lengthOf = (b: Buffer, at: number) => {
    const first = b[at + 1]!;
    if (!(first & 0x80)) return first;
    let n = 0;
    for (let i = 0; i < (first & 0x7f); i++) n = n * 256 + b[at + 2 + i]!;
    return n;
  };
  const status = headerLength(resp, 0);
  const token = status + headerLength(resp, status) + lengthOf(resp, status);
  return resp.subarray(token, token + headerLength(resp, token) + lengthOf(resp, token));
}
