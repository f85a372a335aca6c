import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHttpApp } from '../../src/api/index.js';
import {
  RECIPIENT,
  SENDER,
  startTwoAccessPoints,
  type TwoAccessPoints,
} from '../../src/harness/two-access-points.js';
import {
  checkRecipient,
  createSmpDirectory,
  createStaticDirectory,
  type RecipientCheck,
} from '../../src/directory/index.js';
import { devPkiLayout, loadTrustStore, type DevPkiLayout } from '../../src/pki/index.js';
import { devTestPki, foreignTestPki } from '../helpers/pki.js';
import {
  answerValues,
  signedMetadata,
  startSmpResponder,
  type MetadataValues,
  type SmpResponder,
} from './smp-fixtures.js';
import { accessPointInternals } from '../../src/access-point/internals.js';
import { qerdsInProcess, qerdsLaunched } from '../helpers/cli.js';

const DOC = {
  scheme: 'busdox-docid-qns',
  value: 'urn:oasis:names:specification:ubl:schema:xsd:Invoice-2::Invoice##urn:cen.eu:en16931:2017::2.1',
};
const DOC_ARG = `${DOC.scheme}::${DOC.value}`;
const PATH = `/iso6523-actorid-upis%3A%3A${encodeURIComponent(RECIPIENT.id)}/services/${encodeURIComponent(DOC_ARG)}`;

/**
 * QCStatements (RFC 3739; EN 319 412-5) with QcCompliance (0.4.0.1862.1.1) and QcType eseal (0.4.0.1862.1.6.2),
 * DER as hex: SEQUENCE { SEQUENCE { OID qcCompliance }, SEQUENCE { OID qcType, SEQUENCE { OID eseal } } }.
 */
const QC_STATEMENTS_DER = '301f3008060604008e4601013013060604008e4601063009060704008e46010602';

let pki: DevPkiLayout;
let dir: string;
let qualifiedCert: string;
let foreignCert: string;
let smp: SmpResponder;
let values: MetadataValues;

/** An e-seal certificate with QcStatements, issued by the dev CA with the openssl CLI. */
function qualifiedSeal(): string {
  const out = mkdtempSync(join(tmpdir(), 'qerds-qc-'));
  writeFileSync(
    join(out, 'ext.cnf'),
    `[x]\nbasicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature,nonRepudiation\n1.3.6.1.5.5.7.1.3=DER:${QC_STATEMENTS_DER}\n`,
  );
  const run = (args: string[]) => execFileSync('openssl', args, { stdio: 'pipe' });
  run(['genpkey', '-algorithm', 'RSA', '-pkeyopt', 'rsa_keygen_bits:2048', '-out', join(out, 'key.pem')]);
  run([
    'req',
    '-new',
    '-key',
    join(out, 'key.pem'),
    '-subj',
    '/C=JP/O=Test Works LLC/CN=Qualified AP e-seal',
    '-out',
    join(out, 'csr.pem'),
  ]);
  run([
    'x509',
    '-req',
    '-in',
    join(out, 'csr.pem'),
    '-CA',
    pki.caCert,
    '-CAkey',
    pki.caKey,
    '-CAcreateserial',
    '-CAserial',
    join(out, 'ca.srl'),
    '-days',
    '30',
    '-sha256',
    '-extfile',
    join(out, 'ext.cnf'),
    '-extensions',
    'x',
    '-out',
    join(out, 'cert.pem'),
  ]);
  return join(out, 'cert.pem');
}

/** `qerds <args>` run in this process; the first lookup below is the one real launch (bin/qerds.js). */
const qerds = (args: string[]) => qerdsInProcess(args);

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'qerds-recipient-check-'));
  await devTestPki(join(dir, 'pki'));
  pki = devPkiLayout(join(dir, 'pki'));
  qualifiedCert = qualifiedSeal();
  foreignCert = foreignTestPki().ap('c3').sealCert;
  smp = await startSmpResponder();
  values = answerValues(RECIPIENT.id, DOC, readFileSync(pki.ap('c3').sealCert, 'utf8'), {
    encCertPem: readFileSync(pki.recipient('bob').cert, 'utf8'),
  });
});

afterAll(async () => {
  await smp?.close();
});

describe('checkRecipient', () => {
  it('trusts a pinned AP certificate that chains to the trust store and reads its qualified status', async () => {
    const trust = loadTrustStore([pki.caCert, pki.caCrl]);
    const directory = createStaticDirectory([
      {
        id: RECIPIENT.id,
        name: RECIPIENT.name,
        endpoint: 'https://c3.example/as4',
        apCertificate: qualifiedCert,
      },
    ]);
    const check = await checkRecipient(directory, trust, { scheme: '0188', value: '9876543210987' });
    expect(check).toMatchObject({
      verdict: 'reachable',
      reachable: true,
      endpoint: 'https://c3.example/as4',
      source: 'static',
    });
    expect(check.apCertificate).toMatchObject({ trusted: true, qualified: true, qcTypes: ['eseal'] });
    expect(check.apCertificate!.subject).toContain('Qualified AP e-seal');
    expect(check.grounds.join('\n')).toMatch(
      /chains to a trust anchor, and claims qualified status \(eseal\)/,
    );

    const plain = await checkRecipient(
      createStaticDirectory([
        {
          id: RECIPIENT.id,
          name: RECIPIENT.name,
          endpoint: 'https://c3.example/as4',
          apCertificate: pki.ap('c3').sealCert,
        },
      ]),
      trust,
      { scheme: '0188', value: '9876543210987' },
    );
    expect(plain.apCertificate).toMatchObject({ trusted: true, qualified: false, qcTypes: [] });
  });

  it('calls an AP whose pinned certificate is outside the trust store untrusted, with the path finding as ground', async () => {
    const trust = loadTrustStore([pki.caCert]);
    const directory = createStaticDirectory([
      {
        id: '0188:2222222222222',
        name: 'Mallory',
        endpoint: 'https://evil.example/as4',
        apCertificate: foreignCert,
      },
    ]);
    const check = await checkRecipient(directory, trust, { scheme: '0188', value: '2222222222222' });
    expect(check).toMatchObject({ verdict: 'untrusted', reachable: false });
    expect(check.apCertificate?.trusted).toBe(false);
    expect(check.grounds.join('\n')).toContain('PKI_PATH_NOT_FOUND');
  });
});

describe('GET /api/v1/recipients/{participant}', () => {
  let net: TwoAccessPoints;
  let smpApp: Server;
  let smpAppUrl: string;

  beforeAll(async () => {
    net = await startTwoAccessPoints({ outDir: join(dir, 'aps'), pkiDir: join(dir, 'pki') });
    // C2's REST API over an SMP-backed directory, with C2's trust store: the route as an SMP deployment serves it.
    const app = createHttpApp({
      ctx: {
        ...accessPointInternals(net.c2).context,
        directory: createSmpDirectory({
          baseUrl: smp.url,
          trust: accessPointInternals(net.c2).trust,
          documentTypeId: DOC,
          binding: 'smp2',
        }),
      },
      accounts: [
        {
          participant: SENDER.id,
          name: SENDER.name,
          ial: 1,
          credentials: [{ kind: 'apiKey', keySha256: createHash('sha256').update(SENDER.key).digest('hex') }],
        },
      ],
      maxPayloadBytes: 1024,
      trust: accessPointInternals(net.c2).trust,
    });
    smpApp = createServer(app);
    await new Promise<void>((resolve) => smpApp.listen(0, '127.0.0.1', () => resolve()));
    smpAppUrl = `http://127.0.0.1:${(smpApp.address() as AddressInfo).port}`;
  });

  afterAll(async () => {
    await new Promise((resolve) => smpApp?.close(resolve));
    await net?.stop();
  });

  const get = (base: string, path: string, key: string | null = SENDER.key) =>
    fetch(`${base}/api/v1/recipients/${path}`, { headers: key ? { authorization: `Bearer ${key}` } : {} });

  it('answers for a recipient of the static directory of a running AP', async () => {
    const response = await get(net.c2.url, encodeURIComponent(RECIPIENT.id));
    expect(response.status).toBe(200);
    const check = (await response.json()) as RecipientCheck;
    expect(check).toMatchObject({
      participant: RECIPIENT.id,
      verdict: 'reachable',
      endpoint: `${net.c3.url}/as4`,
      source: 'static',
    });
    // The demo directory pins each AP's e-seal: C3's, and it chains to C2's trust store.
    expect(check.apCertificate).toMatchObject({
      trusted: true,
      fingerprint256: accessPointInternals(net.c3).identity.certificate.fingerprint256,
    });
    expect(check.grounds.some((g) => g.includes('pins no AP certificate'))).toBe(false);
  });

  it('is a 404 problem for an unknown recipient, 400 for a malformed id, 401 without an API key', async () => {
    const unknown = await get(net.c2.url, '0188:0000000000000');
    expect(unknown.status).toBe(404);
    expect(unknown.headers.get('content-type')).toContain('application/problem+json');
    expect(((await unknown.json()) as { code: string }).code).toBe('NOT_FOUND');
    expect((await get(net.c2.url, 'no-scheme')).status).toBe(400);
    expect((await get(net.c2.url, RECIPIENT.id, null)).status).toBe(401);
  });

  it('over an SMP: reachable with the trusted AP and encryption certificates; untrusted when the SMP answer is forged', async () => {
    const signer = { keyFile: pki.ap('c2').sealKey, certFile: pki.ap('c2').sealCert };
    const signed = signedMetadata('smp2', values, signer);
    smp.publish(`/bdxr-smp-2${PATH}`, signed);
    const ok = (await (await get(smpAppUrl, RECIPIENT.id)).json()) as RecipientCheck;
    expect(ok).toMatchObject({
      verdict: 'reachable',
      endpoint: 'https://c3.example/as4',
      transportProfile: 'bdxr-transport-ebms3-as4-v1p0',
    });
    expect(ok.apCertificate).toMatchObject({ trusted: true });
    expect(ok.apCertificate!.subject).toContain('AP c3 e-seal');
    expect(ok.encryptionCertificate).toMatchObject({ trusted: true });
    expect(ok.expiresAt).toBe('2099-12-31T23:59:59.000Z');

    smp.publish(
      `/bdxr-smp-2${PATH}`,
      signed.replace('https://c3.example/as4', 'https://attacker.example/as4'),
    );
    const forged = await get(smpAppUrl, RECIPIENT.id);
    expect(forged.status).toBe(200);
    const check = (await forged.json()) as RecipientCheck;
    expect(check).toMatchObject({
      verdict: 'untrusted',
      reachable: false,
      error: { code: 'DIRECTORY_SMP_SIGNATURE_INVALID' },
    });
    expect(check.endpoint).toBeUndefined();
  });
});

describe('qerds lookup', () => {
  let config: string;

  beforeAll(() => {
    config = join(dir, 'lookup.yaml');
    // JSON is YAML.
    writeFileSync(
      config,
      JSON.stringify({
        pki: { dir: join(dir, 'pki') },
        directory: {
          participants: [
            {
              id: RECIPIENT.id,
              name: RECIPIENT.name,
              endpoint: 'https://c3.example/as4',
              apCertificate: qualifiedCert,
            },
            {
              id: '0188:2222222222222',
              name: 'Mallory',
              endpoint: 'https://evil.example/as4',
              apCertificate: foreignCert,
            },
          ],
        },
      }),
    );
  });

  it('exit 0 and the check as JSON for a reachable recipient of the configured directory', async () => {
    const r = qerdsLaunched(['lookup', RECIPIENT.id, '--config', config, '--json']);
    expect(r.stderr).not.toContain('qerds:');
    expect(r.status).toBe(0);
    const check = JSON.parse(r.stdout) as RecipientCheck;
    expect(check).toMatchObject({ verdict: 'reachable', endpoint: 'https://c3.example/as4' });
    expect(check.apCertificate).toMatchObject({ trusted: true, qualified: true });
  });

  it('exit 1 with the grounds for an untrusted AP and for an unknown recipient', async () => {
    const untrusted = await qerds(['lookup', '0188:2222222222222', '--config', config]);
    expect(untrusted.status).toBe(1);
    expect(untrusted.stdout).toMatch(/^recipient 0188:2222222222222: UNTRUSTED/);
    expect(untrusted.stdout).toContain('NOT TRUSTED');
    expect(untrusted.stdout).toContain('PKI_PATH_NOT_FOUND');
    const unknown = await qerds(['lookup', '0188:0000000000000', '--config', config]);
    expect(unknown.status).toBe(1);
    expect(unknown.stdout).toContain('UNREACHABLE');
    expect(unknown.stdout).toContain('is not in the directory');
  });

  it('asks an SMP with --smp', async () => {
    smp.publish(
      PATH,
      signedMetadata(
        'smp1',
        { ...values, endpoint: 'https://smp1-c3.example/as4' },
        { keyFile: pki.ap('c2').sealKey, certFile: pki.ap('c2').sealCert },
      ),
    );
    const r = await qerds([
      'lookup',
      RECIPIENT.id,
      '--config',
      config,
      '--smp',
      smp.url,
      '--document-type',
      DOC_ARG,
      '--json',
    ]);
    expect(r.status).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({
      verdict: 'reachable',
      endpoint: 'https://smp1-c3.example/as4',
      source: `${smp.url}${PATH}`,
    });
  });
});
