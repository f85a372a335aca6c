import { execFile, execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { initDevPki } from '../../src/pki/dev-pki.js';
import { SHARED_DEV_PKI_APS, SHARED_DEV_PKI_RECIPIENTS, TEST_PKI_ENV } from './pki-env.js';

/**
 * Runs once before all test files (in the vitest main process, before any worker starts): builds the PKIs
 * every test shares read-only, and checks that the command-line tools the interop tests rely on are
 * installed, failing loudly instead of skipping. Building a PKI costs seconds of CPU (RSA key generation);
 * once here instead of once per file is most of what keeps a 2-core run short.
 *
 * The paths reach the workers through the environment (a worker is forked after global setup ran, with
 * this process's environment).
 */
export default async function setup(): Promise<() => void> {
  for (const tool of ['openssl', 'xmlsec1', 'xmllint']) {
    try {
      execFileSync('sh', ['-c', `command -v ${tool}`], { stdio: 'pipe' });
    } catch {
      throw new Error(`${tool} is required by the tests: apt-get install -y xmlsec1 libxml2-utils openssl`);
    }
  }
  const root = mkdtempSync(join(tmpdir(), 'qerds-test-pkis-'));
  const script = join(dirname(fileURLToPath(import.meta.url)), 'openssl-pki.sh');
  const opensslPki = (dir: string, cnPrefix: string) => promisify(execFile)('bash', [script, dir, cnPrefix]);
  const dirs = { shared: join(root, 'shared'), foreign: join(root, 'foreign'), dev: join(root, 'dev') };
  // The three are independent: the openssl ones run as child processes while the dev one generates keys here.
  await Promise.all([
    opensslPki(dirs.shared, 'Shared'),
    opensslPki(dirs.foreign, 'Foreign'),
    initDevPki({ dir: dirs.dev, aps: SHARED_DEV_PKI_APS, recipients: SHARED_DEV_PKI_RECIPIENTS }),
  ]);
  process.env[TEST_PKI_ENV.shared] = dirs.shared;
  process.env[TEST_PKI_ENV.foreign] = dirs.foreign;
  process.env[TEST_PKI_ENV.dev] = dirs.dev;
  const before = fingerprint(root);
  return () => {
    // Files run at once: one that changed a shared PKI (revoked in it, deleted it) changed it under the others.
    // Tests run as root here, so file modes cannot stop that; this check names the culprit's damage instead.
    const after = fingerprint(root);
    rmSync(root, { recursive: true, force: true });
    const changed = [...new Set([...before.keys(), ...after.keys()])].filter(
      (f) => before.get(f) !== after.get(f),
    );
    if (changed.length > 0) {
      // A teardown's error alone is printed but leaves the exit status at 0.
      process.exitCode = 1;
      throw new Error(
        `a test changed the shared test PKIs (use privateCopy() or devTestPki() to change a PKI): ${changed.join(', ')}`,
      );
    }
  };
}

/** SHA-256 of every file under `dir`, by path relative to it. */
function fingerprint(dir: string): Map<string, string> {
  const files = readdirSync(dir, { recursive: true, withFileTypes: true }).filter((e) => e.isFile());
  return new Map(
    files.map((e) => {
      const path = join(e.parentPath, e.name);
      return [path.slice(dir.length + 1), createHash('sha256').update(readFileSync(path)).digest('hex')];
    }),
  );
}
