import { execFileSync, spawnSync } from 'node:child_process';
import { createHash, X509Certificate } from 'node:crypto';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { sequentialIdGenerator } from '../../src/core/ids.js';
import { issueEvidence, xadesSealer } from '../../src/evidence/index.js';
import { loadSigningIdentity } from '../../src/pki/index.js';
import { buildTrustList } from '../../src/trust-list/index.js';
import { augmentXmlSeal } from '../../src/seal/index.js';
import {
  createLocalTsaClient,
  createTimestampAuthority,
  encodeTimestampRequest,
} from '../../src/timestamp/index.js';
import { evidenceSamples } from '../fixtures/evidence/load-samples.js';
import { opensslTsa } from '../helpers/openssl-tsa.js';
import { qerdsInProcess, qerdsLaunched } from '../helpers/cli.js';
import { crlIssuedAt, sharedTestPki } from '../helpers/pki.js';
import { opensslTsaCertificate } from '../seal/long-lived-tsa.js';

const DAY = 86_400_000;

/** `qerds <args>` run in this process (the CLI's own entry; one real launch below proves bin/qerds.js). */
const qerds = (...args: string[]) => qerdsInProcess(args);

// Each run starts the CLI through tsx (seconds on a loaded 2-core machine): generous per-test time.
describe(
  'qerds verify (CLI): evidence and timestamp files, --at, --content, --json, --xml; exit 0 only when valid',
  { timeout: 120_000 },
  () => {
    const dir = mkdtempSync(join(tmpdir(), 'qerds-cli-verify-'));
    const file = (name: string, data: string | Buffer): string => {
      writeFileSync(join(dir, name), data);
      return join(dir, name);
    };
    let pki: ReturnType<typeof sharedTestPki>;
    let trustArgs: string[];
    let lta: string;
    let bt: string;
    let pastExpiry: string;
    let laterTrustArgs: string[];

    beforeAll(async () => {
      pki = sharedTestPki();
      trustArgs = ['--trust', pki.caCert, '--trust', pki.caCrl];
      const identity = loadSigningIdentity(pki.ap('c2').sealCert, pki.ap('c2').sealKey);
      const tsa = createLocalTsaClient(
        createTimestampAuthority({ identity: loadSigningIdentity(pki.tsaCert, pki.tsaKey) }),
      );
      const longTsa = opensslTsaCertificate(pki, 3000);
      const archiveTsa = createLocalTsaClient(
        createTimestampAuthority({ identity: loadSigningIdentity(longTsa.certFile, longTsa.keyFile) }),
      );
      const sealer = xadesSealer({
        identity,
        tsa,
        clock: { now: () => new Date() },
        idGenerator: sequentialIdGenerator(),
      });
      const xml = (await issueEvidence(evidenceSamples().SubmissionAcceptance, sealer)).xml;
      bt = file('bt.xml', xml);
      lta = file(
        'lta.xml',
        await augmentXmlSeal(xml, { level: 'B-LTA', tsa: archiveTsa, crls: [readFileSync(pki.caCrl)] }),
      );
      pastExpiry = new Date(new Date(identity.certificate.validTo).getTime() + 30 * DAY).toISOString();
      // The verifier of that time holds the CA's CRL of that time (the one of today no longer covers it).
      laterTrustArgs = [
        '--trust',
        pki.caCert,
        '--trust',
        file('later.crl.pem', await crlIssuedAt(pki, new Date(Date.parse(pastExpiry) - DAY))),
      ];
      // samples.json SubmissionAcceptance: part-1 = SHA-256("password"), part-2 = SHA-256("hello").
      file('part1.bin', 'password');
      file('part2.bin', 'hello');
      file('wrong.bin', 'passw0rd');
    });

    it('a B-LTA evidence: VALID, exit 0; with the clock past the seal certificate expiry still VALID, the B-T not', async () => {
      const ok = await qerds('verify', lta, ...trustArgs);
      expect(ok.stderr).toBe('');
      expect(ok.stdout.split('\n')[0]).toBe('VALID');
      expect(ok.stdout).toContain('level:      XAdES-B-LTA');
      expect(ok.stdout).toMatch(/archive ts: \d{4}-/);
      expect(ok.status).toBe(0);
      // The one real launch of `qerds verify` (bin/qerds.js in its own process): the same words and status.
      const launched = qerdsLaunched(['verify', lta, ...trustArgs]);
      const withoutValidationTime = (r: typeof ok) => ({
        ...r,
        stdout: r.stdout.replace(/^validated: .*$/m, ''),
      });
      expect(withoutValidationTime(launched)).toEqual(withoutValidationTime(ok));
      const stale = await qerds('verify', lta, ...trustArgs, '--at', pastExpiry);
      expect(stale.stdout.split('\n')[0]).toMatch(/^INVALID \(INDETERMINATE\): TRY_LATER/);
      const later = await qerds('verify', lta, ...laterTrustArgs, '--at', pastExpiry);
      expect(later.stdout.split('\n')[0]).toBe('VALID');
      expect(later.stdout).toContain(`validated:  as of ${pastExpiry}`);
      expect(later.status).toBe(0);
      const old = await qerds('verify', bt, ...laterTrustArgs, '--at', pastExpiry);
      expect(old.stdout.split('\n')[0]).toMatch(/^INVALID \(INDETERMINATE\): OUT_OF_BOUNDS_NO_POE/);
      expect(old.status).toBe(1);
    });

    it('--content: the parts in order pass; one changed byte fails with HASH_FAILURE; --json carries the verdict', async () => {
      expect(
        (
          await qerds(
            'verify',
            lta,
            ...trustArgs,
            '--content',
            join(dir, 'part1.bin'),
            '--content',
            join(dir, 'part2.bin'),
          )
        ).status,
      ).toBe(0);
      expect((await qerds('verify', lta, ...trustArgs, '--content', join(dir, 'part2.bin'))).status).toBe(0);
      const bad = await qerds('verify', lta, ...trustArgs, '--content', join(dir, 'wrong.bin'), '--json');
      expect(bad.status).toBe(1);
      const json = JSON.parse(bad.stdout) as {
        kind: string;
        indication: string;
        subIndication: string;
        seal: { level: string; signer: { subject: string } };
      };
      expect(json).toMatchObject({
        kind: 'evidence',
        indication: 'TOTAL-FAILED',
        subIndication: 'HASH_FAILURE',
        seal: { level: 'B-LTA' },
      });
      expect(json.seal.signer.subject).toContain('CN=Shared AP c2 e-seal');
    });

    it('--xml: a TS 119 102-2 style report', async () => {
      const r = await qerds('verify', lta, ...trustArgs, '--xml');
      expect(r.status).toBe(0);
      expect(r.stdout).toMatch(/<ValidationReport [^>]*xmlns="http:\/\/uri.etsi.org\/19102\/v1.2.1#"/);
      expect(r.stdout).toContain(
        '<MainIndication>urn:etsi:019102:mainindication:total-passed</MainIndication>',
      );
      const ok = spawnSync('xmllint', ['--noout', '-'], { input: r.stdout });
      expect(ok.status).toBe(0);
    });

    it('a bare RFC 3161 token (made by openssl) and a TimeStampResp (ours): detected, verified, imprint checked with --content', async () => {
      const data = readFileSync(join(dir, 'part1.bin'));
      const token = await opensslTsa(pki).timestamp({
        algorithm: 'sha256',
        digest: createHash('sha256').update(data).digest(),
      });
      const tokenFile = file('token.der', token.der);
      const ok = await qerds('verify', tokenFile, ...trustArgs, '--content', join(dir, 'part1.bin'));
      expect(ok.stdout.split('\n')[0]).toBe('VALID');
      expect(ok.stdout).toContain('file:       RFC 3161 timestamp token');
      expect(ok.stdout).toContain('(matches the content)');
      expect(ok.status).toBe(0);
      const bad = await qerds('verify', tokenFile, ...trustArgs, '--content', join(dir, 'wrong.bin'));
      expect(bad.stdout.split('\n')[0]).toMatch(/^INVALID \(TOTAL-FAILED\): HASH_FAILURE/);
      expect(bad.status).toBe(1);
      const unbound = await qerds('verify', tokenFile, ...trustArgs, '--json');
      expect(JSON.parse(unbound.stdout)).toMatchObject({
        kind: 'timestamp-token',
        indication: 'TOTAL-PASSED',
        contentChecked: false,
      });

      const authority = createTimestampAuthority({ identity: loadSigningIdentity(pki.tsaCert, pki.tsaKey) });
      const resp = await authority.respond(
        encodeTimestampRequest(
          { algorithm: 'sha256', digest: createHash('sha256').update(data).digest() },
          { certReq: true },
        ).der,
      );
      const r = await qerds(
        'verify',
        file('reply.tsr', resp),
        ...trustArgs,
        '--content',
        join(dir, 'part1.bin'),
      );
      expect(r.stdout.split('\n')[0]).toBe('VALID');
      expect(r.status).toBe(0);
      // One flipped byte near the end (the TSA's signature): SIG_CRYPTO_FAILURE.
      const flipped = Buffer.from(token.der);
      flipped[flipped.length - 5] = (flipped[flipped.length - 5] as number) ^ 0x01;
      const f = await qerds(
        'verify',
        file('flipped.der', flipped),
        ...trustArgs,
        '--content',
        join(dir, 'part1.bin'),
      );
      expect(f.stdout.split('\n')[0]).toMatch(/^INVALID \(TOTAL-FAILED\): SIG_CRYPTO_FAILURE/);
      expect(f.status).toBe(1);
      // Five CLI runs through tsx: more than the suite's per-test time on a loaded 2-core machine.
    }, 400_000);

    it('--trust list.xml: a trusted list signed under the CA of another --trust says seal and TSA are qualified', async () => {
      // The list signer: issued by the shared CA with openssl, EKU id-tsl-kp-tslSigning (TS 119 612 §5.7.1).
      const [key, csr, crt, ext] = ['tl.key.pem', 'tl.csr', 'tl.crt.pem', 'tl.ext'].map((n) =>
        join(dir, n),
      ) as [string, string, string, string];
      writeFileSync(ext, 'keyUsage=critical,digitalSignature\nextendedKeyUsage=0.4.0.2231.3.0\n');
      execFileSync(
        'openssl',
        [
          'req',
          '-new',
          '-newkey',
          'rsa:2048',
          '-nodes',
          '-keyout',
          key,
          '-out',
          csr,
          '-subj',
          '/C=JP/O=Shared Dev/CN=Shared TL signer',
        ],
        { stdio: 'pipe' },
      );
      execFileSync(
        'openssl',
        [
          'x509',
          '-req',
          '-in',
          csr,
          '-CA',
          pki.caCert,
          '-CAkey',
          pki.caKey,
          '-CAcreateserial',
          '-CAserial',
          join(dir, 'tl.srl'),
          '-days',
          '30',
          '-sha256',
          '-extfile',
          ext,
          '-out',
          crt,
        ],
        { stdio: 'pipe' },
      );
      const cert = (f: string) => new X509Certificate(readFileSync(f));
      const since = new Date('2020-01-01T00:00:00Z');
      const list = file(
        'tl.xml',
        await buildTrustList({
          schemeOperator: 'Shared operator',
          services: [
            {
              type: 'QTST',
              name: 'Shared TSA',
              certificate: cert(pki.tsaCert),
              status: 'granted',
              statusStartingTime: since,
            },
            {
              type: 'QERDS',
              name: 'Shared AP c2',
              certificate: cert(pki.ap('c2').sealCert),
              status: 'granted',
              statusStartingTime: since,
            },
          ],
          signer: loadSigningIdentity(crt, key),
          issued: new Date(),
          nextUpdate: new Date(Date.now() + DAY),
        }),
      );
      const ok = await qerds('verify', bt, ...trustArgs, '--trust', list);
      expect(ok.stderr).toBe('');
      expect(ok.stdout.split('\n')[0]).toBe('VALID');
      expect(ok.stdout).toContain(
        'qualified:  seal QUALIFIED (QERDS "Shared AP c2", granted); TSA QUALIFIED (QTST "Shared TSA", granted)',
      );
      expect(ok.status).toBe(0);
      // Alone, the list has no anchor to check its signer against: refused, not trusted on its own word.
      const alone = await qerds('verify', bt, '--trust', list);
      expect(alone.status).not.toBe(0);
      expect(alone.stderr).toContain('CONFIG_INVALID');
    });

    it('a file it cannot tell: no verdict, exit 2 with the reason on stderr', async () => {
      const r = await qerds('verify', file('junk.bin', 'hello world'), ...trustArgs);
      expect(r.status).toBe(2);
      expect(r.stderr).toContain('EVIDENCE_MALFORMED');
    });
  },
);
