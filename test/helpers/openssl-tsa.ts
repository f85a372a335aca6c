import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { MessageImprint, TimeStampToken, TsaClient } from '../../src/core/ports.js';
import type { DevPkiLayout } from '../../src/pki/types.js';

/** Policy OID the openssl test TSA stamps into its tokens. */
export const OPENSSL_TSA_POLICY = '1.3.6.1.4.1.4146.9.9.1';

/**
 * A TsaClient that is not our code: every token is made by `openssl ts -query` / `openssl ts -reply`
 * with the TSA key of an openssl-made PKI. Tokens it issues are independent interop evidence; genTime
 * is the real clock (openssl cannot be told another time), serial numbers count up from 1.
 */
export function opensslTsa(pki: DevPkiLayout): TsaClient {
  const dir = mkdtempSync(join(tmpdir(), 'qerds-openssl-tsa-'));
  const config = join(dir, 'tsa.cnf');
  writeFileSync(join(dir, 'serial'), '01\n');
  writeFileSync(
    config,
    [
      '[tsa]',
      'default_tsa = tsa_config',
      '[tsa_config]',
      `serial = ${join(dir, 'serial')}`,
      'crypto_device = builtin',
      `signer_cert = ${pki.tsaCert}`,
      `signer_key = ${pki.tsaKey}`,
      'signer_digest = sha256',
      `default_policy = ${OPENSSL_TSA_POLICY}`,
      'digests = sha256, sha384, sha512',
      'accuracy = secs:1',
      'ordering = no',
      'tsa_name = yes',
      'ess_cert_id_chain = no',
      'ess_cert_id_alg = sha256',
      '',
    ].join('\n'),
  );
  let n = 0;
  return {
    async timestamp(imprint: MessageImprint): Promise<TimeStampToken> {
      n += 1;
      const query = join(dir, `q${n}.tsq`);
      const token = join(dir, `t${n}.der`);
      execFileSync(
        'openssl',
        [
          'ts',
          '-query',
          `-${imprint.algorithm}`,
          '-digest',
          imprint.digest.toString('hex'),
          '-cert',
          '-out',
          query,
        ],
        { stdio: 'pipe' },
      );
      execFileSync(
        'openssl',
        ['ts', '-reply', '-config', config, '-queryfile', query, '-token_out', '-out', token],
        { stdio: 'pipe' },
      );
      const text = execFileSync('openssl', ['ts', '-reply', '-in', token, '-token_in', '-text'], {
        encoding: 'utf8',
        stdio: 'pipe',
      });
      const field = (name: string): string => {
        const m = new RegExp(`^${name}:\\s*(.+)$`, 'm').exec(text);
        if (!m?.[1]) throw new Error(`openssl ts output lacks ${name}:\n${text}`);
        return m[1].trim();
      };
      return {
        der: readFileSync(token),
        genTime: new Date(field('Time stamp')),
        serialNumber: field('Serial number').replace(/^0x/i, '').toLowerCase(),
        policy: field('Policy OID'),
      };
    },
  };
}
