/**
 * Child process of test/integration/evidence-pool.test.ts, started with a V8 option on node's command line (which
 * node refuses in a thread's own options): seals one evidence in the evidence pool's thread, then says so on stdout.
 * argv: <dev PKI directory>.
 */
import { systemClock } from '../../src/core/index.js';
import { devPkiLayout } from '../../src/pki/index.js';
import { devPkiEvidencePool, sampleEvidence } from './dev-pki-pool.js';

const { pool } = devPkiEvidencePool(devPkiLayout(process.argv[2]!), {
  ap: 'c3',
  level: 'B-T',
  embedCaCertificates: true,
});
try {
  const xml = await pool.seal(sampleEvidence('ev-flags'), 'sig-flags', systemClock);
  process.stdout.write(`sealed in ${pool.threadIds.length} thread: ${xml.includes('Id="sig-flags"')}\n`);
} finally {
  await pool.close();
}
