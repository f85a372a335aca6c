/**
 * `npm run bench`: benchmarks, not tests. Prints figures with the machine, its load and the settings they ran with.
 * Select with BENCH=<name>[,<name>]; the default is every bench but the opt-in ones (minutes each: `scale`
 * starts PostgreSQL/Redis process clusters, `large` sends 1 GiB, `as4-ab` and `verify-ab` need another checkout), so that the default
 * run stays a few minutes.
 * BENCH=all runs them all.
 */
import { cpus, loadavg, totalmem } from 'node:os';
import { benchDemoPath } from './demo-path.js';

const benches: Record<string, () => Promise<void>> = {
  'demo-path': benchDemoPath,
  evidence: async () => (await import('./evidence.js')).benchEvidence(),
  cms: async () => (await import('./cms.js')).benchCms(),
  as4: async () => (await import('./as4.js')).benchAs4(),
  'as4-ab': async () => (await import('./as4-ab.js')).benchAs4Ab(),
  'verify-ab': async () => (await import('./verify-ab.js')).benchVerifyAb(),
  scale: async () => (await import('./scale.js')).benchScale(),
  smtp: async () => (await import('./smtp.js')).benchSmtp(),
  'remote-seal': async () => (await import('./remote-seal.js')).benchRemoteSeal(),
  large: async () => (await import('./large.js')).benchLarge(),
  'verify-page': async () => (await import('./verify-page.js')).benchVerifyPage(),
  cli: async () => (await import('./cli.js')).benchCli(),
  store: async () => (await import('./store.js')).benchStore(),
  timestamp: async () => (await import('./timestamp.js')).benchTimestamp(),
  'xml-parse': async () => (await import('./xml-parse.js')).benchXmlParse(),
};
const optIn = new Set(['scale', 'large', 'as4-ab', 'verify-ab']);

const asked = process.env.BENCH ?? '';
const selected =
  asked === 'all'
    ? Object.keys(benches)
    : asked
      ? asked.split(',')
      : Object.keys(benches).filter((b) => !optIn.has(b));
const load = () =>
  loadavg()
    .map((l) => l.toFixed(2))
    .join(' ');
console.log(
  `machine: ${cpus()[0]?.model ?? 'unknown cpu'} × ${cpus().length}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB, node ${process.version}, ${process.platform}/${process.arch}; load average ${load()}`,
);
if (!asked)
  console.log(
    `benches: ${selected.join(', ')} (opt-in by name: ${[...optIn].join(', ')}; BENCH=all for every one)`,
  );
const started = performance.now();
for (const name of selected) {
  const bench = benches[name];
  if (!bench) throw new Error(`unknown bench ${name}; have ${Object.keys(benches).join(', ')}`);
  console.log(`\n== ${name}`);
  const t0 = performance.now();
  const cpu0 = process.cpuUsage();
  await bench();
  const cpu = process.cpuUsage(cpu0);
  console.log(
    `(${name}: ${((performance.now() - t0) / 1000).toFixed(1)} s wall, ${((cpu.user + cpu.system) / 1e6).toFixed(1)} s CPU in this process; load average now ${load()})`,
  );
}
console.log(`\nall selected benches: ${((performance.now() - started) / 1000).toFixed(0)} s wall`);
