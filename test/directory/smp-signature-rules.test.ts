import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createConfiguredDirectory } from '../../src/access-point/directory-binding.js';
import { loadConfig } from '../../src/config/index.js';
import { isQerdsError, systemClock, type ParticipantId } from '../../src/core/index.js';
import {
  checkRecipient,
  createSmpDirectory,
  verifySmpSignature,
  type Directory,
} from '../../src/directory/index.js';
import { peppolDocumentTypeMatcher, peppolSmpSignatureRules } from '../../src/peppol/index.js';
import { loadTrustStore, type DevPkiLayout, type TrustStore } from '../../src/pki/index.js';
import { sharedTestPki } from '../helpers/pki.js';
import {
  answerValues,
  signedMetadata,
  startSmpResponder,
  type MetadataValues,
  type SmpResponder,
} from './smp-fixtures.js';

/**
 * SMP answers a sender must refuse, each with its own error, and the RSA-SHA1 switch: off by default, it admits
 * SHA-1 on Peppol SMP 1.x responses only (src/peppol/smp-signature-policy.ts), set by `directory.smp.allowRsaSha1`.
 */

const RECIPIENT: ParticipantId = { scheme: '0188', value: '5011001099999' };
const DOC = {
  scheme: 'busdox-docid-qns',
  value:
    'urn:oasis:names:specification:ubl:schema:xsd:Invoice-2::Invoice##urn:cen.eu:en16931:2017#compliant#urn:fdc:peppol.eu:2017:poacc:billing:3.0::2.1',
};
const PATH = `/${encodeURIComponent('iso6523-actorid-upis::0188:5011001099999')}/services/${encodeURIComponent(`${DOC.scheme}::${DOC.value}`)}`;
const RSA_SHA1 = 'http://www.w3.org/2000/09/xmldsig#rsa-sha1';

let pki: DevPkiLayout;
let trust: TrustStore;
let smp: SmpResponder;
let signer: { keyFile: string; certFile: string };
let values: MetadataValues;
let dir: string;

const peppolDirectory = (allowRsaSha1 = false): Directory =>
  createSmpDirectory({
    baseUrl: smp.url,
    trust,
    documentTypeId: DOC,
    documentTypeMatcher: peppolDocumentTypeMatcher,
    signatureRules: peppolSmpSignatureRules({ allowRsaSha1 }),
  });

async function refusal(
  promise: Promise<unknown>,
): Promise<{ code: string; message: string; details?: Record<string, unknown> }> {
  try {
    await promise;
  } catch (error) {
    if (isQerdsError(error))
      return {
        code: error.code,
        message: error.message,
        details: error.details as Record<string, unknown> | undefined,
      };
    throw error;
  }
  throw new Error('expected a refusal');
}

beforeAll(async () => {
  pki = sharedTestPki();
  trust = loadTrustStore([pki.caCert, pki.caCrl]);
  signer = { keyFile: pki.ap('c2').sealKey, certFile: pki.ap('c2').sealCert };
  values = answerValues('0188:5011001099999', DOC, readFileSync(pki.ap('c3').sealCert, 'utf8'));
  dir = mkdtempSync(join(tmpdir(), 'qerds-smp-rules-'));
  smp = await startSmpResponder();
});

afterAll(async () => {
  await smp?.close();
});

describe('forged SMP answers are refused, each with a precise error', () => {
  it('baseline: the genuine RSA-SHA256 answer is accepted', async () => {
    const signed = signedMetadata('peppol', values, signer);
    smp.publish(PATH, signed);
    const entry = await peppolDirectory().lookup(RECIPIENT);
    expect(entry?.endpoint).toBe('https://c3.example/as4');
    expect(entry?.smpSignedWithSha1).toBeUndefined();
    expect(verifySmpSignature(signed, trust, new Date(), peppolSmpSignatureRules()).legacySha1).toBe(false);
  });

  it('altered endpoint: DIRECTORY_SMP_SIGNATURE_INVALID', async () => {
    smp.publish(
      PATH,
      signedMetadata('peppol', values, signer).replace(
        'https://c3.example/as4',
        'https://attacker.example/as4',
      ),
    );
    const r = await refusal(peppolDirectory().lookup(RECIPIENT));
    expect(r.code).toBe('DIRECTORY_SMP_SIGNATURE_INVALID');
    expect(r.message).toContain('does not verify');
  });

  it('wrong signer outside the SMP trust anchors: DIRECTORY_SMP_SIGNATURE_UNTRUSTED naming the signer and PKI_PATH_NOT_FOUND', async () => {
    const key = join(dir, 'mallory.key.pem');
    const cert = join(dir, 'mallory.crt.pem');
    execFileSync(
      'openssl',
      [
        'req',
        '-x509',
        '-newkey',
        'rsa:2048',
        '-nodes',
        '-keyout',
        key,
        '-out',
        cert,
        '-subj',
        '/C=JP/O=Mallory/CN=Mallory SMP',
        '-days',
        '30',
      ],
      { stdio: 'pipe' },
    );
    smp.publish(
      PATH,
      signedMetadata(
        'peppol',
        { ...values, endpoint: 'https://attacker.example/as4' },
        { keyFile: key, certFile: cert },
      ),
    );
    const r = await refusal(peppolDirectory().lookup(RECIPIENT));
    expect(r.code).toBe('DIRECTORY_SMP_SIGNATURE_UNTRUSTED');
    expect(r.message).toContain('CN=Mallory SMP');
    expect(r.message).toContain('PKI_PATH_NOT_FOUND');
  });

  it('wrong signer under the trusted CA, of another role (the TSA): DIRECTORY_SMP_SIGNER_ROLE', async () => {
    smp.publish(PATH, signedMetadata('peppol', values, { keyFile: pki.tsaKey, certFile: pki.tsaCert }));
    const r = await refusal(peppolDirectory().lookup(RECIPIENT));
    expect(r.code).toBe('DIRECTORY_SMP_SIGNER_ROLE');
    expect(r.message).toContain('timeStamping');
  });

  it('a TLS-only certificate may sign a Peppol SMP 1.x answer (Peppol SMP certificates are such), never an OASIS SMP one', async () => {
    const tls = { keyFile: pki.ap('c2').tlsKey, certFile: pki.ap('c2').tlsCert };
    smp.publish(PATH, signedMetadata('peppol', values, tls));
    expect((await peppolDirectory().lookup(RECIPIENT))?.endpoint).toBe('https://c3.example/as4');
    smp.publish(PATH, signedMetadata('smp1', values, tls));
    const r = await refusal(peppolDirectory().lookup(RECIPIENT));
    expect(r.code).toBe('DIRECTORY_SMP_SIGNER_ROLE');
    expect(r.message).toContain('TLS only');
  });

  it('unsigned: DIRECTORY_SMP_SIGNATURE_INVALID', async () => {
    smp.publish(
      PATH,
      signedMetadata('peppol', values, signer).replace(/<ds:Signature[\s\S]*<\/ds:Signature>/, ''),
    );
    const r = await refusal(peppolDirectory().lookup(RECIPIENT));
    expect(r.code).toBe('DIRECTORY_SMP_SIGNATURE_INVALID');
    expect(r.message).toBe('the SMP response is not signed');
  });

  it('RSA-SHA1 with the switch off: DIRECTORY_SMP_SIGNATURE_ALGORITHM naming the algorithm and the switch', async () => {
    smp.publish(PATH, signedMetadata('peppol', { ...values, sha1: true }, signer));
    const r = await refusal(peppolDirectory(false).lookup(RECIPIENT));
    expect(r.code).toBe('DIRECTORY_SMP_SIGNATURE_ALGORITHM');
    expect(r.message).toContain(`SignatureMethod ${RSA_SHA1}`);
    expect(r.message).toContain('directory.smp.allowRsaSha1');
    expect(r.details).toMatchObject({ dialect: 'peppol', algorithm: RSA_SHA1 });
  });

  it('an RSA-SHA256 signature over a SHA-1 digest with the switch off: refused on the DigestMethod', async () => {
    const template = signedMetadata('peppol', values, signer);
    // Not re-signed: the algorithm check comes before any cryptography, so the refusal names the digest.
    smp.publish(
      PATH,
      template.replace('http://www.w3.org/2001/04/xmlenc#sha256', 'http://www.w3.org/2000/09/xmldsig#sha1'),
    );
    const r = await refusal(peppolDirectory(false).lookup(RECIPIENT));
    expect(r.code).toBe('DIRECTORY_SMP_SIGNATURE_ALGORITHM');
    expect(r.message).toContain('DigestMethod http://www.w3.org/2000/09/xmldsig#sha1');
  });
});

describe('the RSA-SHA1 switch', () => {
  it('on: a Peppol SMP 1.x answer signed with RSA-SHA1 is accepted, and flagged as legacy', async () => {
    const signed = signedMetadata('peppol', { ...values, sha1: true }, signer);
    expect(signed).toContain(RSA_SHA1);
    smp.publish(PATH, signed);
    const entry = await peppolDirectory(true).lookup(RECIPIENT);
    expect(entry).toMatchObject({ endpoint: 'https://c3.example/as4', smpSignedWithSha1: true });
    expect(
      verifySmpSignature(signed, trust, new Date(), peppolSmpSignatureRules({ allowRsaSha1: true }))
        .legacySha1,
    ).toBe(true);
    // The pre-send check says so.
    const check = await checkRecipient(peppolDirectory(true), trust, RECIPIENT);
    expect(check.verdict).toBe('reachable');
    expect(check.grounds.join('\n')).toContain('signed its answer with SHA-1');
  });

  it('on: an altered SHA-1 answer is still refused (the signature is verified, not only admitted)', async () => {
    smp.publish(
      PATH,
      signedMetadata('peppol', { ...values, sha1: true }, signer).replace(
        'https://c3.example/as4',
        'https://attacker.example/as4',
      ),
    );
    expect((await refusal(peppolDirectory(true).lookup(RECIPIENT))).code).toBe(
      'DIRECTORY_SMP_SIGNATURE_INVALID',
    );
  });

  it('on: an OASIS SMP 1.0 answer signed with RSA-SHA1 is refused, whatever a policy says', async () => {
    smp.publish(PATH, signedMetadata('smp1', { ...values, sha1: true }, signer));
    const r = await refusal(peppolDirectory(true).lookup(RECIPIENT));
    expect(r.code).toBe('DIRECTORY_SMP_SIGNATURE_ALGORITHM');
    expect(r.message).toContain('never accepted outside Peppol SMP 1.x');
    // Even rules that list SHA-1 for every dialect cannot make the directory take it for OASIS SMP.
    const lax = {
      algorithms: () => ({ signature: [RSA_SHA1], digest: ['http://www.w3.org/2000/09/xmldsig#sha1'] }),
      tlsEkuSigners: () => false,
    };
    const laxDirectory = createSmpDirectory({
      baseUrl: smp.url,
      trust,
      documentTypeId: DOC,
      signatureRules: lax,
    });
    expect((await refusal(laxDirectory.lookup(RECIPIENT))).code).toBe('DIRECTORY_SMP_SIGNATURE_ALGORITHM');
  });

  it('is set by directory.smp.allowRsaSha1 in the configuration (default off)', async () => {
    smp.publish(PATH, signedMetadata('peppol', { ...values, sha1: true }, signer));
    const configured = (allow?: boolean) => {
      const file = join(dir, `smp-${String(allow)}.yaml`);
      const smpConfig = {
        url: smp.url,
        documentType: `${DOC.scheme}::${DOC.value}`,
        trust: [pki.caCert],
        ...(allow === undefined ? {} : { allowRsaSha1: allow }),
      };
      writeFileSync(
        file,
        JSON.stringify({
          pki: { dir: pki.dir },
          directory: { kind: 'smp', cacheTtlSeconds: 0, smp: smpConfig },
        }),
      );
      return createConfiguredDirectory(loadConfig({ file }).directory, trust, systemClock, 'edelivery-1.15');
    };
    expect((await refusal(configured().lookup(RECIPIENT))).code).toBe('DIRECTORY_SMP_SIGNATURE_ALGORITHM');
    expect((await refusal(configured(false).lookup(RECIPIENT))).code).toBe(
      'DIRECTORY_SMP_SIGNATURE_ALGORITHM',
    );
    expect((await configured(true).lookup(RECIPIENT))?.endpoint).toBe('https://c3.example/as4');
  });

  it('is read nowhere but in SMP discovery: no AS4, seal or evidence module knows of it', () => {
    const src = resolve(import.meta.dirname, '../../src');
    const files = (d: string): string[] =>
      readdirSync(d).flatMap((n) =>
        statSync(join(d, n)).isDirectory() ? files(join(d, n)) : n.endsWith('.ts') ? [join(d, n)] : [],
      );
    const readers = files(src)
      .filter((f) => readFileSync(f, 'utf8').includes('allowRsaSha1'))
      .map((f) => relative(src, f))
      .sort();
    expect(readers.some((r) => r.startsWith('directory/'))).toBe(true);
    expect(readers.filter((r) => !r.startsWith('directory/'))).toEqual([
      'access-point/directory-binding.ts',
      'cli/lookup-command.ts',
      'config/schema/directory.ts',
      'peppol/smp-signature-policy.ts',
    ]);
  });
});
