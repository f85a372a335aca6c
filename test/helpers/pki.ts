import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { crlPem, importRsaSigningKey, issueCrl } from '../../src/pki/cert-factory.js';
import { devPkiLayout } from '../../src/pki/layout.js';
import { x509 } from '../../src/pki/x509.js';
import type { DevPkiLayout } from '../../src/pki/types.js';

const here = dirname(fileURLToPath(import.meta.url));

/**
 * A PKI made by the openssl CLI alone (test/helpers/openssl-pki.sh): certificates our code did not
 * make, for interop tests and for "outside the trust store" cases. A fresh one per call.
 */
export function opensslPki(cnPrefix = 'Test'): DevPkiLayout {
  const dir = mkdtempSync(join(tmpdir(), 'qerds-openssl-pki-'));
  execFileSync('bash', [join(here, 'openssl-pki.sh'), dir, cnPrefix], { stdio: 'pipe' });
  return devPkiLayout(dir);
}

/** The PKI that global setup generated once for the whole run (shared, read-only). */
export function sharedTestPki(): DevPkiLayout {
  const dir = process.env.QERDS_TEST_PKI;
  if (!dir || !existsSync(dir)) throw new Error('QERDS_TEST_PKI is not set: run tests through vitest (global setup)');
  return devPkiLayout(dir);
}

/**
 * An empty CRL of `pki`'s CA issued at `thisUpdate` (valid 30 days): what a verifier at that (future) time
 * would fetch from the CA. A CRL must cover the validation time (src/pki/crl.ts crlCovers), so a test that
 * validates years ahead hands in one of these instead of the CRL `qerds pki init` wrote.
 */
export async function crlIssuedAt(pki: DevPkiLayout, thisUpdate: Date): Promise<string> {
  const ca = { cert: new x509.X509Certificate(readFileSync(pki.caCert, 'utf8')), signingKey: await importRsaSigningKey(readFileSync(pki.caKey, 'utf8')) };
  return crlPem(await issueCrl(ca, { crlNumber: BigInt(Math.floor(thisUpdate.getTime() / 1000)), thisUpdate, nextUpdate: new Date(thisUpdate.getTime() + 30 * 86_400_000), entries: [] }));
}
