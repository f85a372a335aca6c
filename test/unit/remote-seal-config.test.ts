import { describe, expect, it } from 'vitest';
import { isQerdsError } from '../../src/core/errors.js';
import { loadConfig } from '../../src/config/index.js';

const account = (remoteSeal: unknown) => ({
  participant: '0188:1234567890123',
  name: 'Sender',
  credentials: [{ kind: 'apiKey', keySha256: 'a'.repeat(64) }],
  remoteSeal,
});
const load = (remoteSeal: unknown) =>
  loadConfig({ env: {}, baseDir: '/srv/qerds', overrides: { accounts: [account(remoteSeal)] } as never });

describe('config accounts[].remoteSeal', () => {
  it('takes a token by label, defaults the module to softhsm2 and resolves the certificate against the config directory', () => {
    const config = load({
      pkcs11: { tokenLabel: 'sender', keyLabel: 'seal', pinEnv: 'SENDER_SEAL_PIN' },
      certificate: 'certs/sender-seal.crt.pem',
    });
    expect(config.accounts[0]!.remoteSeal).toEqual({
      pkcs11: {
        module: '/usr/lib/softhsm/libsofthsm2.so',
        tokenLabel: 'sender',
        keyLabel: 'seal',
        pinEnv: 'SENDER_SEAL_PIN',
      },
      certificate: '/srv/qerds/certs/sender-seal.crt.pem',
    });
  });

  it.each([
    ['neither tokenLabel nor slot', { keyLabel: 'seal', pinEnv: 'PIN' }],
    ['both tokenLabel and slot', { tokenLabel: 't', slot: 0, keyLabel: 'seal', pinEnv: 'PIN' }],
    ['a PIN in the file', { tokenLabel: 't', keyLabel: 'seal', pinEnv: 'PIN', pin: '1234' }],
    ['a pinEnv that is no variable name', { tokenLabel: 't', keyLabel: 'seal', pinEnv: '1234 5678' }],
  ])('refuses %s', (_name, pkcs11) => {
    let err: unknown;
    try {
      load({ pkcs11, certificate: 'c.pem' });
    } catch (e) {
      err = e;
    }
    expect(isQerdsError(err, 'CONFIG_INVALID')).toBe(true);
  });
});
