import { join } from 'node:path';
import type { DevPkiLayout } from './types.js';

/** The file layout of a dev PKI directory (see certs/README.md). */
export function devPkiLayout(dir: string): DevPkiLayout {
  return {
    dir,
    caCert: join(dir, 'ca', 'ca.crt.pem'),
    caKey: join(dir, 'ca', 'ca.key.pem'),
    caCrl: join(dir, 'ca', 'ca.crl.pem'),
    tsaCert: join(dir, 'tsa', 'tsa.crt.pem'),
    tsaKey: join(dir, 'tsa', 'tsa.key.pem'),
    trustList: join(dir, 'trust-list.xml'),
    tlSignerCert: join(dir, 'tl', 'signer.crt.pem'),
    tlSignerKey: join(dir, 'tl', 'signer.key.pem'),
    ap: (name) => ({
      sealCert: join(dir, name, 'seal.crt.pem'),
      sealKey: join(dir, name, 'seal.key.pem'),
      sealP12: join(dir, name, 'seal.p12'),
      tlsCert: join(dir, name, 'tls.crt.pem'),
      tlsKey: join(dir, name, 'tls.key.pem'),
      encCert: join(dir, name, 'enc.crt.pem'),
      encKey: join(dir, name, 'enc.key.pem'),
    }),
    as4Signing: (name) => ({
      cert: join(dir, name, 'as4-sign.crt.pem'),
      key: join(dir, name, 'as4-sign.key.pem'),
    }),
    edelivery2: (name) => ({
      signCert: join(dir, name, 'as4-ed25519.crt.pem'),
      signKey: join(dir, name, 'as4-ed25519.key.pem'),
      encCert: join(dir, name, 'enc-x25519.crt.pem'),
      encKey: join(dir, name, 'enc-x25519.key.pem'),
    }),
    peppolApCa: {
      anchorsDir: join(dir, 'peppol'),
      cert: join(dir, 'peppol', 'ap-test', 'peppol-ap-test-ca-g3.pem'),
      key: join(dir, 'peppol', 'ap-ca.key.pem'),
      crl: join(dir, 'peppol', 'ap-ca.crl.pem'),
    },
    recipient: (name) => ({
      cert: join(dir, 'recipients', `${name}.crt.pem`),
      key: join(dir, 'recipients', `${name}.key.pem`),
    }),
  };
}
