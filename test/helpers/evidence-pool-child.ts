/**
 * Child process of test/integration/evidence-pool.test.ts, started with a V8 option on node's command line (which
 * node refuses in a thread's own options): seals one evidence in the evidence pool's thread, then says so on stdout.
 * argv: <dev PKI directory>.
 */
import { pino } from 'pino';
import { createEvidencePool } from '../../src/access-point/evidence-pool.js';
import { systemClock } from '../../src/core/index.js';
import { createCrlSet, devPkiLayout, readTrustMaterial } from '../../src/pki/index.js';

const pki = devPkiLayout(process.argv[2]!);
const material = readTrustMaterial([pki.caCert, pki.caCrl]);
const pool = createEvidencePool({
  threads: 1,
  queueLimit: 8,
  init: {
    seal: { cert: pki.ap('c3').sealCert, key: pki.ap('c3').sealKey },
    tsa: { cert: pki.tsaCert, key: pki.tsaKey, policyOid: '1.3.6.1.4.1.99999.1' },
    anchors: material.anchors.map((a) => a.raw),
    level: 'B-T',
    certificates: material.anchors.map((a) => a.raw),
  },
  crls: createCrlSet(material.crls, material.anchors),
  log: pino({ level: 'silent' }),
});
try {
  const xml = await pool.seal(
    {
      id: 'ev-flags',
      event: 'RelayAcceptance',
      eventTime: new Date(Math.floor(Date.now() / 1000) * 1000),
      issuerPolicyIds: ['urn:qerds-ap:policy:test'],
      issuer: { id: 'urn:qerds-ap:ap:c3', name: 'C3' },
      sender: { id: { scheme: 'iso6523-actorid-upis', value: '0088:sender' } },
      recipient: { id: { scheme: 'iso6523-actorid-upis', value: '0088:recipient' } },
      messageId: 'm-1@qerds',
      parts: [{ partId: 'p1', contentType: 'text/plain', sha256: 'a'.repeat(64) }],
    },
    'sig-flags',
    systemClock,
  );
  process.stdout.write(`sealed in ${pool.threadIds.length} thread: ${xml.includes('Id="sig-flags"')}\n`);
} finally {
  await pool.close();
}
