import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { DevPkiLayout } from '../../src/pki/types.js';

const XADES_SIGNED_PROPERTIES = 'http://uri.etsi.org/01903/v1.3.2#:SignedProperties';
const EVIDENCE_XSD = new URL('../../schemas/evidence/en319522-evidence.xsd', import.meta.url).pathname;

/** Validate an evidence against the EN 319 522-3 XSD with xmllint: an independent schema check. */
export function xmllintEvidence(xml: string): { ok: boolean; output: string } {
  const dir = mkdtempSync(join(tmpdir(), 'qerds-xmllint-'));
  const file = join(dir, 'evidence.xml');
  writeFileSync(file, xml);
  const r = spawnSync('xmllint', ['--noout', '--schema', EVIDENCE_XSD, file], { encoding: 'utf8' });
  return { ok: r.status === 0, output: `${r.stdout}${r.stderr}` };
}

/**
 * Verify an XML signature with xmlsec1 (libxmlsec1 1.2.37, OpenSSL back end): an independent verifier.
 * `--id-attr:Id <ns>:SignedProperties` makes the XAdES SignedProperties Id resolvable for its reference
 * (libxml2 knows no ID attributes without a DTD).
 */
export function xmlsecVerify(xml: string, caCertFile: string): { ok: boolean; output: string } {
  const dir = mkdtempSync(join(tmpdir(), 'qerds-xmlsec-'));
  const file = join(dir, 'signed.xml');
  writeFileSync(file, xml);
  const r = spawnSync(
    'xmlsec1',
    ['--verify', '--trusted-pem', caCertFile, '--id-attr:Id', XADES_SIGNED_PROPERTIES, file],
    { encoding: 'utf8' },
  );
  return { ok: r.status === 0, output: `${r.stdout}${r.stderr}` };
}

/** Sign a template (DigestValue/SignatureValue empty) with xmlsec1: a signature our code did not make. */
export function xmlsecSign(template: string, keyFile: string, certFile: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'qerds-xmlsec-'));
  const file = join(dir, 'template.xml');
  writeFileSync(file, template);
  return execFileSync(
    'xmlsec1',
    ['--sign', '--privkey-pem', `${keyFile},${certFile}`, '--id-attr:Id', XADES_SIGNED_PROPERTIES, file],
    {
      encoding: 'utf8',
      stdio: 'pipe',
    },
  );
}

/**
 * An EC P-256 e-seal key and certificate made by the openssl CLI and issued by the CA of `pki` (whose
 * files are only read), naming `organizationIdentifier` (2.5.4.97) when given. Returns the file paths.
 */
export function opensslEcSeal(
  pki: DevPkiLayout,
  cn = 'Test AP EC e-seal',
  organizationIdentifier?: string,
): { certFile: string; keyFile: string } {
  const dir = mkdtempSync(join(tmpdir(), 'qerds-ec-seal-'));
  const keyFile = join(dir, 'ec.key.pem');
  const certFile = join(dir, 'ec.crt.pem');
  const ext = join(dir, 'ext.cnf');
  writeFileSync(
    ext,
    '[x_seal]\nbasicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature,nonRepudiation\nsubjectKeyIdentifier=hash\nauthorityKeyIdentifier=keyid\n',
  );
  const run = (args: string[]) => execFileSync('openssl', args, { stdio: 'pipe' });
  run(['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', keyFile]);
  run([
    'req',
    '-new',
    '-key',
    keyFile,
    '-subj',
    `/C=JP/O=Test Dev${organizationIdentifier ? `/organizationIdentifier=${organizationIdentifier}` : ''}/CN=${cn}`,
    '-out',
    join(dir, 'ec.csr'),
  ]);
  run([
    'x509',
    '-req',
    '-in',
    join(dir, 'ec.csr'),
    '-CA',
    pki.caCert,
    '-CAkey',
    pki.caKey,
    '-CAserial',
    join(dir, 'ca.srl'),
    '-CAcreateserial',
    '-days',
    '30',
    '-sha256',
    '-extfile',
    ext,
    '-extensions',
    'x_seal',
    '-out',
    certFile,
  ]);
  return { certFile, keyFile };
}
