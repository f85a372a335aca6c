import { spawnSync } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isQerdsError } from '../core/errors.js';
import {
  initDevPki as initPki,
  loadSigningIdentity,
  type DevPkiLayout,
  type InitDevPkiOptions,
} from '../pki/index.js';
import { buildTrustList, devTrustListXml, loadTrustList, SERVICE_STATUS_URI } from './index.js';

/** The dev PKI as `qerds pki init` writes it: with the signed trusted list. */
const initDevPki = (options: InitDevPkiOptions) => initPki({ ...options, trustList: devTrustListXml });

/** xmlsec1, an independent XMLDSig implementation, checks the list's signature against the dev CA. */
function xmlsecVerify(xml: string, caCert: string): { ok: boolean; output: string } {
  const dir = mkdtempSync(join(tmpdir(), 'qerds-tl-xmlsec-'));
  writeFileSync(join(dir, 'tl.xml'), xml);
  const r = spawnSync(
    'xmlsec1',
    [
      '--verify',
      '--trusted-pem',
      caCert,
      '--id-attr:Id',
      'http://uri.etsi.org/01903/v1.3.2#:SignedProperties',
      join(dir, 'tl.xml'),
    ],
    { encoding: 'utf8' },
  );
  return { ok: r.status === 0, output: `${r.stdout}${r.stderr}` };
}

let root: string;
let layout: DevPkiLayout;
let ca: X509Certificate;
const cert = (file: string) => new X509Certificate(readFileSync(file));

beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), 'qerds-tl-test-'));
  ({ layout } = await initDevPki({ dir: join(root, 'pki'), recipients: [] }));
  ca = cert(layout.caCert);
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe('the dev trusted list (qerds pki init)', () => {
  it('is signed so that xmlsec1 verifies it, and names the CA, the TSA and each AP', async () => {
    const xml = readFileSync(layout.trustList, 'utf8');
    const x = xmlsecVerify(xml, layout.caCert);
    expect(x.output).toContain('OK');
    expect(x.ok).toBe(true);
    expect(xml).toContain('xmlns="http://uri.etsi.org/02231/v2#"');

    const tl = await loadTrustList(xml, { signerAnchors: [ca] });
    expect(tl.signer.subject).toContain('trusted list signer');
    expect(tl.services.map((s) => [s.type, s.typeUri])).toEqual([
      ['QESeal', 'http://uri.etsi.org/TrstSvc/Svctype/CA/QC'],
      ['QTST', 'http://uri.etsi.org/TrstSvc/Svctype/TSA/QTST'],
      ['QERDS', 'http://uri.etsi.org/TrstSvc/Svctype/EDS/Q'],
      ['QERDS', 'http://uri.etsi.org/TrstSvc/Svctype/EDS/Q'],
    ]);
    expect(tl.statusOf(cert(layout.tsaCert))).toMatchObject({
      qualified: true,
      serviceType: 'QTST',
      status: 'granted',
      via: 'service',
    });
    expect(tl.statusOf(cert(layout.ap('c3').sealCert))).toMatchObject({
      qualified: true,
      serviceType: 'QERDS',
      via: 'service',
    });
    // A certificate of the listed CA/QC (ForeSeals) that no service names: qualified through its issuer.
    expect(tl.statusOf(cert(layout.ap('c2').tlsCert))).toMatchObject({
      qualified: true,
      serviceType: 'QESeal',
      via: 'issuer',
    });
    expect(tl.trustStore().validate(cert(layout.ap('c2').sealCert)).valid).toBe(true);
  });

  it('a status edited from granted to withdrawn breaks the signature (xmlsec1 and loadTrustList)', async () => {
    const xml = readFileSync(layout.trustList, 'utf8');
    const at = xml.indexOf(SERVICE_STATUS_URI.granted, xml.indexOf('TSA/QTST'));
    const forged =
      xml.slice(0, at) + SERVICE_STATUS_URI.withdrawn + xml.slice(at + SERVICE_STATUS_URI.granted.length);
    expect(forged).not.toBe(xml);
    expect(xmlsecVerify(forged, layout.caCert).ok).toBe(false);
    const err = await loadTrustList(forged, { signerAnchors: [ca] }).catch((e: unknown) => e);
    expect(isQerdsError(err, 'TL_SIGNATURE_INVALID')).toBe(true);
  });

  it('refuses a list signed by a key outside the signer anchors, and one signed by an e-seal of the right CA', async () => {
    const xml = readFileSync(layout.trustList, 'utf8');
    const other = await initDevPki({ dir: join(root, 'other'), aps: ['z9'], recipients: [] });
    const foreign = await loadTrustList(xml, { signerAnchors: [cert(other.layout.caCert)] }).catch(
      (e: unknown) => e,
    );
    expect(isQerdsError(foreign, 'TL_SIGNATURE_INVALID')).toBe(true);

    // The AP's own seal key chains to the same CA but has no tslSigning EKU: it must not be able to publish a list.
    const seal = loadSigningIdentity(layout.ap('c2').sealCert, layout.ap('c2').sealKey);
    const bySeal = await buildTrustList({
      schemeOperator: 'rogue',
      services: [
        {
          type: 'QTST',
          name: 'rogue TSA',
          certificate: seal.certificate,
          status: 'granted',
          statusStartingTime: new Date('2020-01-01Z'),
        },
      ],
      signer: seal,
      issued: new Date(),
      nextUpdate: new Date(Date.now() + 86_400_000),
    });
    const refused = await loadTrustList(bySeal, { signerAnchors: [ca] }).catch((e: unknown) => e);
    expect(isQerdsError(refused, 'TL_SIGNATURE_INVALID')).toBe(true);
    expect((refused as Error).message).toContain('tslSigning');
    // The same certificate pinned (the signer anchor is the certificate itself, as a LOTL pointer names a
    // national list's signer): accepted without the EKU (TS 119 612; EU DSS does the same).
    const pinned = await loadTrustList(bySeal, { signerAnchors: [seal.certificate] });
    expect(pinned.signerPinned).toBe(true);
    expect(pinned.services.map((s) => s.name)).toEqual(['rogue TSA']);
  });

  it('statusOf follows the status history: qualified inside the granted period, not after the withdrawal', async () => {
    const signer = loadSigningIdentity(layout.tlSignerCert, layout.tlSignerKey);
    const tsa = cert(layout.tsaCert);
    const grantedAt = new Date('2025-01-01T00:00:00Z');
    const withdrawnAt = new Date('2026-03-01T00:00:00Z');
    const xml = await buildTrustList({
      schemeOperator: 'test operator',
      services: [
        {
          type: 'QTST',
          name: 'TSA',
          certificate: tsa,
          status: 'withdrawn',
          statusStartingTime: withdrawnAt,
          history: [{ status: 'granted', statusStartingTime: grantedAt }],
        },
      ],
      signer,
      issued: new Date(),
      nextUpdate: new Date(Date.now() + 86_400_000),
    });
    expect(xml).toContain('<ServiceHistory>');
    const tl = await loadTrustList(xml, { signerAnchors: [ca] });
    expect(tl.statusOf(tsa, new Date('2025-06-01Z'))).toMatchObject({ qualified: true, status: 'granted' });
    expect(tl.statusOf(tsa, new Date('2026-04-01Z'))).toMatchObject({
      qualified: false,
      status: 'withdrawn',
      serviceType: 'QTST',
    });
    expect(tl.statusOf(tsa, new Date('2024-06-01Z'))).toMatchObject({ qualified: false });
    expect(tl.statusOf(tsa, new Date('2024-06-01Z')).status).toBeUndefined();
    expect(tl.trustStore(new Date('2025-06-01Z')).anchors).toHaveLength(1);
    expect(tl.trustStore(new Date('2026-04-01Z')).anchors).toHaveLength(0);
    expect(tl.statusOf(ca, new Date('2025-06-01Z'))).toEqual({ qualified: false });
  });

  it('refuses a list past its NextUpdate unless asked to accept it', async () => {
    const signer = loadSigningIdentity(layout.tlSignerCert, layout.tlSignerKey);
    const xml = await buildTrustList({
      schemeOperator: 'op',
      services: [],
      signer,
      issued: new Date(Date.now() - 60_000),
      nextUpdate: new Date(Date.now() - 1000),
    });
    const stale = await loadTrustList(xml, { signerAnchors: [ca] }).catch((e: unknown) => e);
    expect(isQerdsError(stale, 'TL_STALE')).toBe(true);
    expect((await loadTrustList(xml, { signerAnchors: [ca], allowStale: true })).services).toEqual([]);
  });

  it('a PKI made before trusted lists gets the list and its signer; a missing list alone is re-signed', async () => {
    const dir = join(root, 'older');
    cpSync(layout.dir, dir, { recursive: true });
    rmSync(join(dir, 'trust-list.xml'));
    rmSync(join(dir, 'tl'), { recursive: true });
    const upgraded = await initDevPki({ dir, recipients: [] });
    const l = upgraded.layout;
    expect(upgraded.created).toBe(false);
    expect([...upgraded.added].sort()).toEqual([l.tlSignerCert, l.tlSignerKey, l.trustList].sort());
    expect(readFileSync(l.caCert, 'utf8')).toBe(readFileSync(layout.caCert, 'utf8'));
    const tl = await loadTrustList(readFileSync(l.trustList, 'utf8'), { signerAnchors: [ca] });
    expect(tl.statusOf(cert(l.ap('c2').sealCert)).qualified).toBe(true);

    const signerBefore = readFileSync(l.tlSignerCert, 'utf8');
    rmSync(l.trustList);
    expect((await initDevPki({ dir, recipients: [] })).added).toEqual([l.trustList]);
    expect(readFileSync(l.tlSignerCert, 'utf8')).toBe(signerBefore);
    expect(existsSync(l.trustList)).toBe(true);
  });
});
