/**
 * `npm run bench`: benchmarks, not tests. Prints figures with the machine and the settings they ran with.
 * Select with BENCH=<name>[,<name>] (default: all).
 */
import { cpus, totalmem } from 'node:os';
import { benchDemoPath } from './demo-path.js';

const benches: Record<string, () => Promise<void>> = {
  'demo-path': benchDemoPath,
  evidence: async () => (await import('./evidence.js')).benchEvidence(),
  cms: async () => (await import('./cms.js')).benchCms(),
  as4: async () => (await import('./as4.js')).benchAs4(),
  scale: async () => (await import('./scale.js')).benchScale(),
  smtp: async () => (await import('./smtp.js')).benchSmtp(),
  'remote-seal': async () => (await import('./remote-seal.js')).benchRemoteSeal(),
  large: async () => (await import('./large.js')).benchLarge(),
  'verify-page': async () => (await import('./verify-page.js')).benchVerifyPage(),
};

const selected = (process.env.BENCH ?? Object.keys(benches).join(',')).split(',');
console.log(`machine: ${cpus()[0]?.model ?? 'unknown cpu'} × ${cpus().length}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB, node ${process.version}, ${process.platform}/${process.arch}`);
for (const name of selected) {
  const bench = benches[name];
  if (!bench) throw new Error(`unknown bench ${name}; have ${Object.keys(benches).join(', ')}`);
  console.log(`\n== ${name}`);
  await bench();
}
