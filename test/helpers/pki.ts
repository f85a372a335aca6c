import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { crlPem, importRsaSigningKey, issueCrl } from '../../src/pki/cert-factory.js';
import { initDevPki, type DevTrustListBuilder } from '../../src/pki/dev-pki.js';
import { devPkiLayout } from '../../src/pki/layout.js';
import { x509 } from '../../src/pki/x509.js';
import type { DevPkiLayout } from '../../src/pki/types.js';
import { SHARED_DEV_PKI_APS, SHARED_DEV_PKI_RECIPIENTS, TEST_PKI_ENV } from './pki-env.js';

const here = dirname(fileURLToPath(import.meta.url));

/**
 * A PKI made by the openssl CLI alone (test/helpers/openssl-pki.sh): certificates our code did not
 * make. A fresh one per call, which costs seconds of CPU: tests use sharedTestPki() / foreignTestPki()
 * (built once) and privateCopy() when they must change one; this is for scripts that make fixtures.
 */
export function opensslPki(cnPrefix = 'Test'): DevPkiLayout {
  const dir = mkdtempSync(join(tmpdir(), 'qerds-openssl-pki-'));
  execFileSync('bash', [join(here, 'openssl-pki.sh'), dir, cnPrefix], { stdio: 'pipe' });
  return devPkiLayout(dir);
}

function fromGlobalSetup(variable: string): string {
  const dir = process.env[variable];
  if (!dir || !existsSync(dir))
    throw new Error(`${variable} is not set: run tests through vitest (global setup)`);
  return dir;
}

/** The openssl-made PKI ("Shared" names) that global setup generated once for the whole run (read-only). */
export function sharedTestPki(): DevPkiLayout {
  return devPkiLayout(fromGlobalSetup(TEST_PKI_ENV.shared));
}

/**
 * A second openssl-made PKI ("Foreign" names), built once in global setup (read-only): a CA, TSA, APs and
 * recipients that no other test PKI trusts, for "outside the trust store" cases.
 */
export function foreignTestPki(): DevPkiLayout {
  return devPkiLayout(fromGlobalSetup(TEST_PKI_ENV.foreign));
}

/** A copy of `pki` in a fresh temporary directory, for a test that revokes, re-issues or deletes in it. */
export function privateCopy(pki: DevPkiLayout): DevPkiLayout {
  const dir = join(mkdtempSync(join(tmpdir(), 'qerds-pki-copy-')), 'pki');
  cpSync(pki.dir, dir, { recursive: true });
  return devPkiLayout(dir);
}

export interface DevTestPkiOptions {
  /** @defaultValue ['c2', 'c3'], as initDevPki */
  readonly aps?: readonly string[];
  /** @defaultValue ['alice', 'bob'], as initDevPki */
  readonly recipients?: readonly string[];
  /** Also write a signed trusted list (initDevPki's option, signed by the copied list signer). */
  readonly trustList?: DevTrustListBuilder;
}

/**
 * What `initDevPki({ dir, aps, recipients })` writes, copied from the dev PKI that global setup made once:
 * the same files, made by the same code, in `dir` (the test's own: it may change them). Every test gets the
 * same keys, so two PKIs that must differ within one test take foreignTestPki() for the other one.
 */
export async function devTestPki(dir: string, options: DevTestPkiOptions = {}): Promise<DevPkiLayout> {
  const aps = options.aps ?? ['c2', 'c3'];
  const recipients = options.recipients ?? ['alice', 'bob'];
  const unknown = [
    ...aps.filter((a) => !SHARED_DEV_PKI_APS.includes(a)),
    ...recipients.filter((r) => !SHARED_DEV_PKI_RECIPIENTS.includes(r)),
  ];
  if (unknown.length > 0)
    throw new Error(
      `the shared dev PKI has no ${unknown.join(', ')}: add them to SHARED_DEV_PKI_* (test/helpers/pki-env.ts)`,
    );
  const source = fromGlobalSetup(TEST_PKI_ENV.dev);
  const shared = devPkiLayout(source);
  const keepRecipients = new Set(recipients.flatMap((r) => Object.values(shared.recipient(r))));
  const otherAps = new Set(SHARED_DEV_PKI_APS.filter((a) => !aps.includes(a)));
  cpSync(source, dir, {
    recursive: true,
    filter: (path) => {
      const [top = '', file] = relative(source, path).split(sep);
      if (otherAps.has(top)) return false;
      return top !== 'recipients' || file === undefined || keepRecipients.has(path);
    },
  });
  // Only the trusted list is missing now: initDevPki signs it with the copied list signer, generating no key.
  if (options.trustList) await initDevPki({ dir, aps, recipients, trustList: options.trustList });
  return devPkiLayout(dir);
}

/**
 * An empty CRL of `pki`'s CA issued at `thisUpdate` (valid 30 days): what a verifier at that (future) time
 * would fetch from the CA. A CRL must cover the validation time (src/pki/crl.ts crlCovers), so a test that
 * validates years ahead hands in one of these instead of the CRL `qerds pki init` wrote.
 */
export async function crlIssuedAt(pki: DevPkiLayout, thisUpdate: Date): Promise<string> {
  const ca = {
    cert: new x509.X509Certificate(readFileSync(pki.caCert, 'utf8')),
    signingKey: await importRsaSigningKey(readFileSync(pki.caKey, 'utf8')),
  };
  return crlPem(
    await issueCrl(ca, {
      crlNumber: BigInt(Math.floor(thisUpdate.getTime() / 1000)),
      thisUpdate,
      nextUpdate: new Date(thisUpdate.getTime() + 30 * 86_400_000),
      entries: [],
    }),
  );
}
