import { createPrivateKey, X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { DevPkiLayout } from '../pki/index.js';
import { buildTrustList } from './build-trust-list.js';
import type { TrustListServiceInput } from './types.js';

const cert = (file: string): X509Certificate => new X509Certificate(readFileSync(file));

/**
 * The dev PKI's trusted list, from the files already on disk: the dev CA as a CA/QC for e-seals (QESeal), the
 * TSA as QTST, each AP's seal certificate as a QERDS, all granted since the CA's notBefore; signed by the
 * tl/signer identity. Valid until the leaf certificates expire (a real list lives at most six months).
 */
export async function devTrustListXml(
  layout: DevPkiLayout,
  aps: readonly string[],
  issued: Date,
  nextUpdate: Date,
): Promise<string> {
  const ca = cert(layout.caCert);
  const since = new Date(ca.validFrom);
  const granted = (
    type: TrustListServiceInput['type'],
    name: string,
    certificate: X509Certificate,
  ): TrustListServiceInput => ({
    type,
    name,
    certificate,
    status: 'granted',
    statusStartingTime: since,
  });
  const signerPem = readFileSync(layout.tlSignerCert, 'utf8');
  return buildTrustList({
    schemeOperator: 'qerds-ap DEV ONLY scheme operator',
    tspName: 'qerds-ap DEV ONLY trust service provider',
    services: [
      granted('QESeal', 'qerds-ap DEV ONLY Root CA (qualified certificates for e-seals)', ca),
      granted('QTST', 'qerds-ap DEV ONLY TSA', cert(layout.tsaCert)),
      ...aps.map((ap) => granted('QERDS', `qerds-ap DEV ONLY AP ${ap}`, cert(layout.ap(ap).sealCert))),
    ],
    signer: {
      certificate: new X509Certificate(signerPem),
      privateKey: createPrivateKey(readFileSync(layout.tlSignerKey)),
      chain: [],
    },
    issued,
    nextUpdate,
  });
}
