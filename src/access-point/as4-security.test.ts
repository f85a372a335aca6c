import { thrownCode } from '../../test/helpers/thrown-code.js';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { definePMode } from '../as4/index.js';
import { loadConfig, type QerdsConfigInput } from '../config/index.js';
import { isQerdsError } from '../core/index.js';
import { devPkiLayout, loadSigningIdentity, loadTrustStore, type TrustStore } from '../pki/index.js';
import { cmsRecipients, type CmsRecipients } from '../../test/helpers/cms-recipients.js';
import { sharedTestPki, foreignTestPki } from '../../test/helpers/pki.js';
import { ACTION_DISPATCH, ACTION_EVIDENCE, ERDS_SERVICE } from '../profiles/index.js';
import { loadAs4Security, outgoingPMode, peerEncryptionCertificate } from './as4-security.js';

const pki = sharedTestPki();
const seal = () => loadSigningIdentity(pki.ap('c2').sealCert, pki.ap('c2').sealKey);
const config = (overrides: QerdsConfigInput = {}) =>
  loadConfig({ env: {}, overrides: { pki: { dir: pki.dir, apName: 'c2' }, ...overrides } });

describe('loadAs4Security (config.as4)', () => {
  it('defaults: one push P-Mode per ERDS action, eDelivery AS4 1.15, encryption required, compressed, NRR receipts', () => {
    const as4 = loadAs4Security(config(), seal());
    expect(as4.pmodes.map((p) => [p.service, p.action, p.mep])).toEqual([
      [ERDS_SERVICE, ACTION_DISPATCH, 'push'],
      [ERDS_SERVICE, ACTION_EVIDENCE, 'push'],
    ]);
    for (const p of as4.pmodes) {
      expect(p.security).toEqual({ algorithmSet: 'edelivery-1.15', encrypt: true });
      expect(p.receipt.nonRepudiation).toBe(true);
      expect(p.compress).toBe(true);
    }
    expect(as4.compress).toBe(true);
    expect(as4.maxDecompressedBytes).toBe(104_857_600);
    expect(as4.encryption.certificate.fingerprint256).toBe(
      loadSigningIdentity(pki.ap('c2').encCert, pki.ap('c2').encKey).certificate.fingerprint256,
    );
    expect(Object.isFrozen(as4.pmodes)).toBe(true);
  });

  it('refuses to start without the encryption identity, naming the fix', () => {
    const error = (() => {
      try {
        return loadAs4Security(config({ as4: { encryptionCert: join(pki.dir, 'missing.crt.pem') } }), seal());
      } catch (e) {
        return e;
      }
    })();
    expect(isQerdsError(error, 'CONFIG_INVALID')).toBe(true);
    expect((error as Error).message).toMatch(/qerds pki init/);
  });

  it('refuses P-Modes this AP cannot keep: an eDelivery 2.0 P-Mode with an RSA e-seal', () => {
    const twoZero = {
      as4: {
        pmodes: [
          {
            id: 'p20',
            service: ERDS_SERVICE,
            action: ACTION_DISPATCH,
            security: { algorithmSet: 'edelivery-2.0' as const },
          },
        ],
      },
    };
    expect(thrownCode(() => loadAs4Security(config(twoZero), seal()))).toBe('CONFIG_INVALID');
  });

  it('refuses duplicate P-Mode ids and an empty list', () => {
    const pm = { id: 'same', service: ERDS_SERVICE, action: ACTION_DISPATCH };
    expect(thrownCode(() => config({ as4: { pmodes: [pm, { ...pm, action: ACTION_EVIDENCE }] } }))).toBe(
      'CONFIG_INVALID',
    );
    expect(thrownCode(() => config({ as4: { pmodes: [] } }))).toBe('CONFIG_INVALID');
  });
});

describe('outgoingPMode / peerEncryptionCertificate (what the transport sends under)', () => {
  let recipients: CmsRecipients;
  let trust: TrustStore;
  const encrypting = definePMode({ id: 'enc', service: ERDS_SERVICE, action: ACTION_DISPATCH });
  const plain = definePMode({
    id: 'plain',
    service: ERDS_SERVICE,
    action: ACTION_DISPATCH,
    security: { encrypt: false },
  });
  // Not fixed at load time: the openssl-made certificates of beforeAll start when they are made.
  let now: Date;
  const refusal = (fn: () => unknown) => {
    try {
      fn();
    } catch (error) {
      return isQerdsError(error)
        ? { code: error.code, retryable: error.details?.retryable, message: error.message }
        : { code: String(error) };
    }
    return undefined;
  };

  beforeAll(async () => {
    recipients = await cmsRecipients();
    const l = devPkiLayout(recipients.dir);
    trust = loadTrustStore([l.caCert, l.caCrl, pki.caCert, pki.caCrl]);
    now = new Date(Date.now() + 1000);
  }, 60_000);

  it('an action without a push P-Mode is EBMS:0010, not retryable', () => {
    const as4 = loadAs4Security(config(), seal());
    expect(outgoingPMode(as4, ERDS_SERVICE, ACTION_EVIDENCE).id).toBe('qerds-erds-evidence');
    expect(refusal(() => outgoingPMode(as4, ERDS_SERVICE, 'Other'))).toMatchObject({
      code: 'AS4_EBMS_0010',
      retryable: false,
    });
  });

  it('a P-Mode that wants encryption and no certificate in the directory: refused for good, never sent in plaintext', () => {
    expect(refusal(() => peerEncryptionCertificate(encrypting, undefined, trust, now))).toMatchObject({
      code: 'AS4_ENCRYPTION_CERT_MISSING',
      retryable: false,
    });
    expect(peerEncryptionCertificate(plain, undefined, trust, now)).toBeUndefined();
  });

  it('a trusted RSA certificate is taken (also where encryption is optional)', () => {
    const pem = readFileSync(pki.ap('c3').encCert, 'utf8');
    expect(peerEncryptionCertificate(encrypting, pem, trust, now)?.subject).toContain('AP c3 AS4 encryption');
    expect(peerEncryptionCertificate(plain, pem, trust, now)).toBeDefined();
  });

  it('a certificate outside the trust anchors, or of the wrong key type for the algorithm set, is refused', () => {
    const foreign = readFileSync(foreignTestPki().ap('c3').encCert, 'utf8');
    expect(refusal(() => peerEncryptionCertificate(encrypting, foreign, trust, now))).toMatchObject({
      code: 'AS4_ENCRYPTION_CERT_INVALID',
      retryable: false,
      message: expect.stringMatching(/not trusted/),
    });
    const x25519 = readFileSync(recipients.x25519.certFile, 'utf8');
    expect(refusal(() => peerEncryptionCertificate(encrypting, x25519, trust, now))).toMatchObject({
      code: 'AS4_ENCRYPTION_CERT_INVALID',
      message: expect.stringMatching(/x25519/),
    });
    const v2 = definePMode({
      id: 'v2',
      service: ERDS_SERVICE,
      action: ACTION_DISPATCH,
      security: { algorithmSet: 'edelivery-2.0' },
    });
    expect(peerEncryptionCertificate(v2, x25519, trust, now)?.publicKey.asymmetricKeyType).toBe('x25519');
    expect(
      refusal(() => peerEncryptionCertificate(encrypting, 'not a certificate', trust, now)),
    ).toMatchObject({ code: 'AS4_ENCRYPTION_CERT_INVALID' });
  });
});
