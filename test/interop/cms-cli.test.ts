import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { qerdsInProcess, qerdsLaunched } from '../helpers/cli.js';
import { cmsRecipients, type CmsRecipients } from '../helpers/cms-recipients.js';

/**
 * The `qerds encrypt` / `qerds decrypt` commands against `openssl cms`, as a user would run them: one real
 * launch of each (bin/qerds.js), the refusal in this process.
 */

describe('qerds encrypt / decrypt', () => {
  let r: CmsRecipients;
  let dir: string;
  const plaintext = randomBytes(300_000);
  beforeAll(async () => {
    r = await cmsRecipients();
    dir = mkdtempSync(join(tmpdir(), 'qerds-cms-cli-'));
    writeFileSync(join(dir, 'plain.bin'), plaintext);
  });

  it('qerds encrypt for two recipients; openssl cms -decrypt opens it for each', () => {
    const out = join(dir, 'msg.der');
    const run = qerdsLaunched([
      'encrypt',
      '--to',
      r.alice.certFile,
      '--to',
      r.ec.certFile,
      join(dir, 'plain.bin'),
      out,
    ]);
    expect(run.status, run.stderr).toBe(0);
    for (const recipient of [r.alice, r.ec]) {
      const decrypted = execFileSync('openssl', [
        'cms',
        '-decrypt',
        '-inform',
        'DER',
        '-in',
        out,
        '-recip',
        recipient.certFile,
        '-inkey',
        recipient.keyFile,
        '-binary',
      ]);
      expect(decrypted.equals(plaintext)).toBe(true);
    }
  }, 60_000);

  it('openssl cms -encrypt; qerds decrypt writes the plaintext (mode 0600) only for the right key', async () => {
    const der = join(dir, 'from-openssl.der');
    execFileSync('openssl', [
      'cms',
      '-encrypt',
      '-aes-256-gcm',
      '-binary',
      '-in',
      join(dir, 'plain.bin'),
      '-outform',
      'DER',
      '-out',
      der,
      '-recip',
      r.bob.certFile,
      '-keyopt',
      'rsa_padding_mode:oaep',
      '-keyopt',
      'rsa_oaep_md:sha256',
    ]);
    const out = join(dir, 'plain.out');
    const run = qerdsLaunched(['decrypt', '--key', r.bob.keyFile, '--cert', r.bob.certFile, der, out]);
    expect(run.status, run.stderr).toBe(0);
    expect(readFileSync(out).equals(plaintext)).toBe(true);
    expect(statSync(out).mode & 0o777).toBe(0o600);

    const wrong = join(dir, 'wrong.out');
    const refused = await qerdsInProcess([
      'decrypt',
      '--key',
      r.alice.keyFile,
      '--cert',
      r.bob.certFile,
      der,
      wrong,
    ]);
    expect(refused.status).toBe(1);
    expect(refused.stderr).toContain('CRYPTO_DECRYPT_FAILED');
    expect(existsSync(wrong)).toBe(false);
  }, 60_000);
});
