import { spawnSync } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { sequentialIdGenerator } from '../../src/core/ids.js';
import { issueEvidence, verifyEvidence, xadesSealer } from '../../src/evidence/index.js';
import { crlPem, importRsaSigningKey, issueCrl } from '../../src/pki/cert-factory.js';
import { createTrustStore, loadSigningIdentity, type DevPkiLayout } from '../../src/pki/index.js';
import { x509 } from '../../src/pki/x509.js';
import { augmentXmlSeal, sealXml } from '../../src/seal/index.js';
import { createLocalTsaClient, createTimestampAuthority } from '../../src/timestamp/index.js';
import { evidenceSamples } from '../fixtures/evidence/load-samples.js';
import { devTestPki } from '../helpers/pki.js';

/**
 * CRL freshness (EN 319 102-1 §5.2.5, RFC 5280 §6.3): a CRL proves a certificate unrevoked at a time only
 * when it covers that time (within thisUpdate..nextUpdate, or issued after it). Otherwise the status is
 * unknown: INDETERMINATE / TRY_LATER, and B-LT augmentation does not embed such a CRL.
 */
const DAY = 86_400_000;
const work = mkdtempSync(join(tmpdir(), 'qerds-crl-fresh-'));
let pki: DevPkiLayout;
let ca: X509Certificate;
let seal: X509Certificate;
let freshCrl: string;
let staleCrl: string;
let bt: string;

beforeAll(async () => {
  pki = await devTestPki(join(work, 'pki'), { recipients: [] });
  ca = new X509Certificate(readFileSync(pki.caCert));
  seal = new X509Certificate(readFileSync(pki.ap('c2').sealCert));
  freshCrl = readFileSync(pki.caCrl, 'utf8');
  // Issued 40 days ago, due 10 days ago: it says nothing about today.
  const signer = {
    cert: new x509.X509Certificate(readFileSync(pki.caCert, 'utf8')),
    signingKey: await importRsaSigningKey(readFileSync(pki.caKey, 'utf8')),
  };
  staleCrl = crlPem(
    await issueCrl(signer, {
      crlNumber: 7n,
      thisUpdate: new Date(Date.now() - 40 * DAY),
      nextUpdate: new Date(Date.now() - 10 * DAY),
      entries: [],
    }),
  );
  const tsa = createLocalTsaClient(
    createTimestampAuthority({ identity: loadSigningIdentity(pki.tsaCert, pki.tsaKey) }),
  );
  const sealer = xadesSealer({
    identity: loadSigningIdentity(pki.ap('c2').sealCert, pki.ap('c2').sealKey),
    tsa,
    clock: { now: () => new Date() },
    idGenerator: sequentialIdGenerator(),
  });
  bt = (await issueEvidence(evidenceSamples().SubmissionAcceptance, sealer)).xml;
}, 120_000);

describe('CRL freshness in path validation', () => {
  it('a CRL covers a time within thisUpdate..nextUpdate or before its issue; past nextUpdate: PKI_REVOCATION_STALE', () => {
    const store = createTrustStore([ca], { crls: [freshCrl] });
    const codes = (at: Date) => store.validate(seal, { at }).findings.map((f) => f.code);
    expect(store.validate(seal, { at: new Date(Date.now() + 10 * DAY) }).valid).toBe(true);
    expect(store.validate(seal, { at: new Date(Date.now() - 3_600_000) }).valid).toBe(true);
    expect(codes(new Date(Date.now() + 10 * DAY))).not.toContain('PKI_REVOCATION_STALE');
    const late = store.validate(seal, { at: new Date(Date.now() + 40 * DAY) });
    expect(late.valid).toBe(false);
    expect(late.findings.map((f) => f.code)).toContain('PKI_REVOCATION_STALE');
    // The newest CRL decides: a stale one beside a fresh one does no harm.
    expect(createTrustStore([ca], { crls: [staleCrl, freshCrl] }).validate(seal).valid).toBe(true);
  });

  it("a stale CRL given both as the store's own and as embedded still makes the status stale (the role goes with the entry, not the memoised parse)", () => {
    const both = createTrustStore([ca], { crls: [staleCrl], embeddedCrls: [staleCrl] }).validate(seal);
    expect(both.valid).toBe(false);
    expect(both.findings.map((f) => f.code)).toContain('PKI_REVOCATION_STALE');
    // Embedded alone: the data of its time, not the verifier's: not checked, not stale.
    const embeddedOnly = createTrustStore([ca], { embeddedCrls: [staleCrl] }).validate(seal);
    expect(embeddedOnly.findings.map((f) => f.code)).toEqual(['PKI_REVOCATION_NOT_CHECKED']);
  });

  it('openssl agrees: the stale CRL cannot be used to check the certificate today, the fresh one can', () => {
    const check = (crl: string) => {
      const file = join(work, `crl-${crl === staleCrl ? 'stale' : 'fresh'}.pem`);
      writeFileSync(file, crl);
      return spawnSync(
        'openssl',
        ['verify', '-crl_check', '-CAfile', pki.caCert, '-CRLfile', file, pki.ap('c2').sealCert],
        { encoding: 'utf8' },
      );
    };
    expect(check(freshCrl).status).toBe(0);
    const stale = check(staleCrl);
    expect(stale.status).not.toBe(0);
    expect(`${stale.stdout}${stale.stderr}`).toMatch(/CRL has expired/);
  });

  it('evidence whose only CRL is stale for the signing time: INDETERMINATE / TRY_LATER; a fresh embedded CRL settles it', async () => {
    const staleStore = createTrustStore([ca], { crls: [staleCrl] });
    expect(await verifyEvidence(bt, { trust: staleStore })).toMatchObject({
      indication: 'INDETERMINATE',
      subIndication: 'TRY_LATER',
    });
    const lt = await augmentXmlSeal(bt, { level: 'B-LT', crls: [freshCrl], certificates: [ca] });
    expect(await verifyEvidence(lt, { trust: staleStore })).toMatchObject({ indication: 'TOTAL-PASSED' });
  });

  it('B-LT augmentation embeds only CRLs that cover the signing time, and refuses when none does', async () => {
    await expect(augmentXmlSeal(bt, { level: 'B-LT', crls: [staleCrl] })).rejects.toMatchObject({
      code: 'SEAL_REVOCATION_STALE',
    });
    const lt = await augmentXmlSeal(bt, { level: 'B-LT', crls: [staleCrl, freshCrl] });
    expect(lt.match(/EncapsulatedCRLValue>/g)).toHaveLength(2); // one element: open and close tag
  });

  it('sealXml with longTerm makes, in one pass, byte for byte what augmentXmlSeal makes of its B-T form; same refusal of stale CRLs', async () => {
    const options = {
      identity: loadSigningIdentity(pki.ap('c2').sealCert, pki.ap('c2').sealKey),
      tsa: createLocalTsaClient(
        createTimestampAuthority({ identity: loadSigningIdentity(pki.tsaCert, pki.tsaKey) }),
      ),
      clock: { now: () => new Date() },
      idGenerator: sequentialIdGenerator(),
    };
    const data = evidenceSamples().SubmissionAcceptance;
    const xml = (
      await issueEvidence(data, {
        seal: (x) => sealXml(x, { ...options, longTerm: { crls: [staleCrl, freshCrl], certificates: [ca] } }),
      })
    ).xml;
    // Its B-T form: the same document without the validation data; augmenting that must give it back.
    const bTForm = xml.replace(/<xades:CertificateValues>[\s\S]*<\/xades:RevocationValues>/, '');
    expect(bTForm).not.toBe(xml);
    expect(
      await augmentXmlSeal(bTForm, { level: 'B-LT', crls: [staleCrl, freshCrl], certificates: [ca] }),
    ).toBe(xml);
    const report = await verifyEvidence(xml, {
      trust: createTrustStore([ca], { crls: [staleCrl] }),
      requireTimestamp: true,
    });
    expect(report).toMatchObject({ indication: 'TOTAL-PASSED', seal: { level: 'B-LT' } });
    const file = join(work, 'one-pass-lt.xml');
    writeFileSync(file, xml);
    expect(
      spawnSync(
        'xmlsec1',
        [
          '--verify',
          '--trusted-pem',
          pki.caCert,
          '--id-attr:Id',
          'http://uri.etsi.org/01903/v1.3.2#:SignedProperties',
          file,
        ],
        { encoding: 'utf8' },
      ).status,
    ).toBe(0);
    await expect(
      issueEvidence(data, {
        seal: (x) => sealXml(x, { ...options, longTerm: { crls: [staleCrl], certificates: [ca] } }),
      }),
    ).rejects.toMatchObject({ code: 'SEAL_REVOCATION_STALE' });
    await expect(
      sealXml('<a/>', { ...options, tsa: undefined, longTerm: { crls: [freshCrl], certificates: [ca] } }),
    ).rejects.toMatchObject({ code: 'SEAL_AUGMENT_NOT_B_T' });
  });
});
