import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

/** `qerds demo --profile peppol`: two APs on the Peppol AS4 profile exchange a JP PINT invoice; the chain is printed and verified. */
describe('qerds demo --profile peppol', () => {
  const work = mkdtempSync(join(tmpdir(), 'qerds-demo-peppol-'));
  afterAll(() => rmSync(work, { recursive: true, force: true }));

  it('sends the JP PINT sample over Peppol, hands the SBD over and prints the evidence chain, every file valid', () => {
    const out = join(work, 'out');
    const result = spawnSync(
      process.execPath,
      [
        join(root, 'bin/qerds.js'),
        'demo',
        '--profile',
        'peppol',
        '--out',
        out,
        '--pki',
        join(work, 'pki'),
        '--timeout',
        '120000',
      ],
      {
        cwd: root,
        encoding: 'utf8',
        timeout: 240_000,
      },
    );
    expect(result.status, result.stdout + result.stderr).toBe(0);
    // The evidence is sealed with the AP's e-seal (naming its AP), AS4 signed with its Peppol AP certificate apart.
    expect(result.stdout).toMatch(
      /C2 .*e-seal: C=JP, O=qerds-ap DEV ONLY, .*urn:qerds-ap:ap:c2, CN=qerds-ap DEV ONLY AP c2 e-seal/,
    );
    expect(result.stdout).toMatch(
      /C2 Peppol AP +AS4 certificate: C=JP, O=qerds-ap DEV ONLY Peppol AP c2, OU=PEPPOL TEST AP, CN=POP000101/,
    );
    expect(result.stdout).toMatch(/P-Modes peppol-jp-pint-invoice \(edelivery-1\.15, encrypted, GZIP\)/);
    expect(result.stdout).toMatch(
      /downloaded the SBD \(\d+ bytes\): 0188:9010401012345 → 0188:5011001099999, invoice JP-INV-0003/,
    );
    // C2's own RelayAcceptance (bound to C3's receipt) beside the chain C3 returned.
    expect(result.stdout).toMatch(/RelayAcceptance .* issuer urn:qerds-ap:ap:c2/);
    expect(result.stdout).toMatch(/ContentHandover .* issuer urn:qerds-ap:ap:c3/);
    const verified = [...result.stdout.matchAll(/evidence\/(\d+-\w+)\.xml: (\w+)/g)].map((m) => [m[1], m[2]]);
    expect(verified.map(([file]) => file!.replace(/^\d+-/, ''))).toEqual(
      expect.arrayContaining([
        'SubmissionAcceptance',
        'RelayAcceptance',
        'ContentConsignment',
        'ContentHandover',
      ]),
    );
    expect(verified.every(([, indication]) => indication === 'VALID')).toBe(true);
    const c2Acceptance = verified.find(
      ([file]) =>
        file!.endsWith('RelayAcceptance') &&
        readFileSync(join(out, 'evidence', `${file}.xml`), 'utf8').includes('signed non-repudiation receipt'),
    );
    expect(c2Acceptance).toBeDefined();
  }, 300_000);
});
