import { execFileSync } from 'node:child_process';
import { generateKeyPairSync, sign, verify, X509Certificate } from 'node:crypto';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { isQerdsError } from '../../src/core/errors.js';
import { systemClock } from '../../src/core/ports.js';
import { ecdsaP1363ToDer, loadSigningIdentity } from '../../src/pki/index.js';
import { sealDetachedCms, sealXml } from '../../src/seal/index.js';

describe('Signer helpers', () => {
  it('turns an ECDSA r || s into the DER SEQUENCE that verifies (P-256 and P-521, leading zero bytes included)', () => {
    for (const namedCurve of ['prime256v1', 'secp521r1']) {
      const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve });
      for (let i = 0; i < 40; i++) {
        const data = Buffer.from(`message ${i}`);
        const raw = sign('sha256', data, { key: privateKey, dsaEncoding: 'ieee-p1363' });
        expect(verify('sha256', data, { key: publicKey, dsaEncoding: 'der' }, ecdsaP1363ToDer(raw))).toBe(
          true,
        );
      }
    }
    expect(() => ecdsaP1363ToDer(Buffer.alloc(63))).toThrow(/even length/);
  });

  it('keeps the seal module’s error for keys it has no profile for (Ed25519)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'qerds-ed25519-'));
    const key = join(dir, 'k.pem');
    const cert = join(dir, 'c.pem');
    execFileSync(
      'openssl',
      [
        'req',
        '-x509',
        '-newkey',
        'ed25519',
        '-nodes',
        '-keyout',
        key,
        '-out',
        cert,
        '-subj',
        '/CN=ed25519',
        '-days',
        '1',
      ],
      { stdio: 'pipe' },
    );
    const identity = loadSigningIdentity(cert, key);
    expect(new X509Certificate(readFileSync(cert)).publicKey.asymmetricKeyType).toBe('ed25519');
    const ids = { next: (p: string) => `${p}-1` };
    const xml = await sealXml('<a/>', { identity, clock: systemClock, idGenerator: ids }).catch(
      (e: unknown) => e,
    );
    expect(isQerdsError(xml, 'SEAL_ALGORITHM_UNSUPPORTED')).toBe(true);
    const cms = await sealDetachedCms(Buffer.from('x'), { identity, clock: systemClock }).catch(
      (e: unknown) => e,
    );
    expect(isQerdsError(cms, 'SEAL_ALGORITHM_UNSUPPORTED')).toBe(true);
  });
});
