import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * Runs once before all test files: makes one PKI shared (read-only) by every test, and checks that the
 * command-line tools the interop tests rely on are installed, failing loudly instead of skipping.
 */
export default function setup(): () => void {
  for (const tool of ['openssl', 'xmlsec1', 'xmllint']) {
    try {
      execFileSync('sh', ['-c', `command -v ${tool}`], { stdio: 'pipe' });
    } catch {
      throw new Error(`${tool} is required by the tests: apt-get install -y xmlsec1 libxml2-utils openssl`);
    }
  }
  const dir = mkdtempSync(join(tmpdir(), 'qerds-test-pki-'));
  const here = dirname(fileURLToPath(import.meta.url));
  execFileSync('bash', [join(here, 'openssl-pki.sh'), dir, 'Shared'], { stdio: 'pipe' });
  process.env.QERDS_TEST_PKI = dir;
  return () => rmSync(dir, { recursive: true, force: true });
}
