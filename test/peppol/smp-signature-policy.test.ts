import { thrownCode } from '../helpers/thrown-code.js';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { isQerdsError } from '../../src/core/errors.js';
import {
  checkSmpSignatureAlgorithms,
  smpSignatureAlgorithms,
  SMP_DIGEST_METHODS,
  SMP_SIGNATURE_METHODS,
} from '../../src/peppol/index.js';

const path = (name: string) => new URL(`../fixtures/smp/${name}`, import.meta.url).pathname;
const sha1Smp = readFileSync(path('signed-service-metadata3-c14n-inclusive.xml'), 'utf8');

describe('SMP signature algorithm policy (RSA-SHA1 switch for Peppol SMP 1.x)', () => {
  it('the fixture is a genuine RSA-SHA1 signature (xmlsec1 verifies it with its own certificate)', () => {
    const r = spawnSync(
      'xmlsec1',
      ['--verify', '--insecure', path('signed-service-metadata3-c14n-inclusive.xml')],
      { encoding: 'utf8' },
    );
    expect(`${r.stdout}${r.stderr}`).toContain('OK');
    expect(r.status).toBe(0);
  });

  it('refuses SHA-1 by default, naming the switch', () => {
    let thrown: unknown;
    try {
      checkSmpSignatureAlgorithms(sha1Smp);
    } catch (e) {
      thrown = e;
    }
    expect(isQerdsError(thrown, 'PEPPOL_SMP_SIGNATURE_ALGORITHM')).toBe(true);
    expect((thrown as Error).message).toContain('allowRsaSha1');
  });

  it.each(['signed-service-metadata1.xml', 'signed-service-metadata3-c14n-inclusive.xml'])(
    'admits %s with the switch on, flagged as legacy',
    (name) => {
      const check = checkSmpSignatureAlgorithms(readFileSync(path(name), 'utf8'), { allowRsaSha1: true });
      expect(check).toEqual({
        dialect: 'peppol-smp1',
        signatureMethod: SMP_SIGNATURE_METHODS.rsaSha1,
        digestMethods: [SMP_DIGEST_METHODS.sha1],
        legacySha1: true,
      });
    },
  );

  it('never admits SHA-1 outside a Peppol SMP 1.x response, switch or not', () => {
    const oasis = sha1Smp.replace(
      /http:\/\/busdox\.org\/serviceMetadata\/publishing\/1\.0\//g,
      'http://docs.oasis-open.org/bdxr/ns/SMP/2016/05',
    );
    expect(thrownCode(() => checkSmpSignatureAlgorithms(oasis, { allowRsaSha1: true }))).toBe(
      'PEPPOL_SMP_SIGNATURE_ALGORITHM',
    );
    expect(smpSignatureAlgorithms('other', { allowRsaSha1: true }).signature).not.toContain(
      SMP_SIGNATURE_METHODS.rsaSha1,
    );
  });

  it('admits SHA-256 without the switch, and refuses a SHA-1 digest under an RSA-SHA256 signature', () => {
    const sha256 = sha1Smp
      .replace(SMP_SIGNATURE_METHODS.rsaSha1, SMP_SIGNATURE_METHODS.rsaSha256)
      .replace(SMP_DIGEST_METHODS.sha1, SMP_DIGEST_METHODS.sha256);
    expect(checkSmpSignatureAlgorithms(sha256).legacySha1).toBe(false);
    const mixed = sha1Smp.replace(SMP_SIGNATURE_METHODS.rsaSha1, SMP_SIGNATURE_METHODS.rsaSha256);
    expect(thrownCode(() => checkSmpSignatureAlgorithms(mixed))).toBe('PEPPOL_SMP_SIGNATURE_ALGORITHM');
    expect(checkSmpSignatureAlgorithms(mixed, { allowRsaSha1: true }).legacySha1).toBe(true);
  });

  it('refuses an unsigned response and one with two signatures', () => {
    const unsigned = sha1Smp.replace(/<Signature[\s\S]*<\/Signature>/, '');
    expect(thrownCode(() => checkSmpSignatureAlgorithms(unsigned, { allowRsaSha1: true }))).toBe(
      'PEPPOL_SMP_SIGNATURE_ALGORITHM',
    );
    const sig = /<Signature[\s\S]*<\/Signature>/.exec(sha1Smp)![0];
    const twice = sha1Smp.replace(sig, sig + sig);
    expect(thrownCode(() => checkSmpSignatureAlgorithms(twice, { allowRsaSha1: true }))).toBe(
      'PEPPOL_SMP_SIGNATURE_ALGORITHM',
    );
  });
});
