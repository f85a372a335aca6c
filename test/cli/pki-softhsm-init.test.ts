import { spawnSync } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { loadTrustStore, openPkcs11Signer } from '../../src/pki/index.js';
import { qerdsInProcess } from '../helpers/cli.js';
import { devTestPki } from '../helpers/pki.js';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const qerds = (args: string[], env: NodeJS.ProcessEnv) =>
  spawnSync(process.execPath, [join(root, 'bin/qerds.js'), ...args], {
    cwd: root,
    encoding: 'utf8',
    env: { ...process.env, ...env },
  });

// Each run starts the CLI through tsx (seconds on a loaded 2-core machine): generous per-test time.
describe('qerds pki softhsm-init', () => {
  it('makes a token whose key the dev CA certified, and prints the remoteSeal config that opens it', async () => {
    const work = mkdtempSync(join(tmpdir(), 'qerds-softhsm-cli-'));
    const pkiDir = join(work, 'pki');
    await devTestPki(pkiDir, { aps: ['c2'], recipients: [] });
    const r = qerds(
      ['pki', 'softhsm-init', '--sender', '0188:1234567890123', '--pki-dir', pkiDir, '--key-type', 'ec'],
      { QERDS_REMOTE_SEAL_PIN: 'cli-pin-1234' },
    );
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    const conf = /export SOFTHSM2_CONF=(\S+)/.exec(r.stdout)![1]!;
    expect(conf).toBe(join(pkiDir, 'softhsm', '0188_1234567890123', 'softhsm2.conf'));
    const snippet = parseYaml(r.stdout.slice(r.stdout.indexOf('remoteSeal:'))) as {
      remoteSeal: {
        pkcs11: { module: string; tokenLabel: string; keyLabel: string; pinEnv: string };
        certificate: string;
      };
    };
    expect(snippet.remoteSeal.pkcs11).toMatchObject({
      tokenLabel: 'qerds-0188_1234567890123',
      keyLabel: 'remote-seal',
      pinEnv: 'QERDS_REMOTE_SEAL_PIN',
    });

    const certificate = new X509Certificate(readFileSync(snippet.remoteSeal.certificate));
    expect(loadTrustStore([join(pkiDir, 'ca', 'ca.crt.pem')]).validate(certificate).valid).toBe(true);
    process.env.SOFTHSM2_CONF = conf;
    const signer = await openPkcs11Signer({ ...snippet.remoteSeal.pkcs11, pin: 'cli-pin-1234' }, certificate);
    try {
      expect(signer.keyType).toBe('ec');
      expect(signer.keyAttributes()).toMatchObject({ extractable: false, sensitive: true });
    } finally {
      signer.close();
    }

    // No PIN in the environment: refused, nothing made (in this process: the launch above proved the entry).
    const noPin = await qerdsInProcess(['pki', 'softhsm-init', '--sender', '0188:1', '--pki-dir', pkiDir], {
      env: { QERDS_REMOTE_SEAL_PIN: '' },
    });
    expect(noPin.status).not.toBe(0);
    expect(noPin.stderr).toContain('QERDS_REMOTE_SEAL_PIN');
  }, 120_000);
});
