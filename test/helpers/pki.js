import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { devPkiLayout } from '../../src/pki/layout.js';
const here = dirname(fileURLToPath(import.meta.url));
/**
 * A PKI made by the openssl CLI alone (test/helpers/openssl-pki.sh): certificates our code did not
 * make, for interop tests and for "outside the trust store" cases. A fresh one per call.
 */
export function opensslPki(cnPrefix = 'Test') {
    const dir = mkdtempSync(join(tmpdir(), 'qerds-openssl-pki-'));
    execFileSync('bash', [join(here, 'openssl-pki.sh'), dir, cnPrefix], { stdio: 'pipe' });
    return devPkiLayout(dir);
}
/** The PKI that global setup generated once for the whole run (shared, read-only). */
export function sharedTestPki() {
    const dir = process.env.QERDS_TEST_PKI;
    if (!dir || !existsSync(dir))
        throw new Error('QERDS_TEST_PKI is not set: run tests through vitest (global setup)');
    return devPkiLayout(dir);
}
//# sourceMappingURL=pki.js.map