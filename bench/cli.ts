import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { sequentialIdGenerator } from '../src/core/ids.js';
import { issueEvidence, xadesSealer } from '../src/evidence/index.js';
import { initDevPki, loadSigningIdentity } from '../src/pki/index.js';
import { createLocalTsaClient, createTimestampAuthority } from '../src/timestamp/index.js';
import { evidenceSamples } from '../test/fixtures/evidence/load-samples.js';
import { formatMs, percentile } from './stats.js';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');

/**
 * The CLI's start-up as an operator meets it: `qerds --help` and `qerds verify evidence.xml` (a B-T evidence,
 * the dev CA as trust) run compiled, each BENCH_CLI_RUNS times in turn with `node -e ''` (the bare runtime's
 * start, the floor) in the same run. Wall time per run and, where /usr/bin/time is there, the child's CPU
 * (user + system). The compiled CLI is dist/ through bin/qerds.js when dist/ is newer than every source;
 * otherwise the sources are compiled (tsconfig.build.json) to .scratch-bench-dist/ and its cli/main.js runs:
 * the bench leaves no dist/ behind for bin/qerds.js to pick up instead of the sources.
 */
export async function benchCli(): Promise<void> {
  const runs = Number(process.env.BENCH_CLI_RUNS ?? 5);
  let cli = [join(root, 'bin', 'qerds.js')];
  if (!isFresh(join(root, 'dist'))) {
    const outDir = join(root, '.scratch-bench-dist');
    if (!isFresh(outDir)) {
      const t0 = performance.now();
      const build = spawnSync(
        process.execPath,
        [
          join(root, 'node_modules', 'typescript', 'bin', 'tsc'),
          '-p',
          join(root, 'tsconfig.build.json'),
          '--outDir',
          outDir,
        ],
        { cwd: root, encoding: 'utf8' },
      );
      if (build.status !== 0) throw new Error(`tsc failed: ${build.stdout}${build.stderr}`);
      console.log(
        `compiled src/ to .scratch-bench-dist/ in ${((performance.now() - t0) / 1000).toFixed(1)} s (not part of the figures; dist/ is missing or older than src/)`,
      );
    }
    cli = [join(outDir, 'cli', 'main.js')];
  }
  const dir = mkdtempSync(join(tmpdir(), 'qerds-bench-cli-'));
  const { layout } = await initDevPki({ dir: join(dir, 'pki') });
  const tsa = createLocalTsaClient(
    createTimestampAuthority({ identity: loadSigningIdentity(layout.tsaCert, layout.tsaKey) }),
  );
  const sealer = xadesSealer({
    identity: loadSigningIdentity(layout.ap('c2').sealCert, layout.ap('c2').sealKey),
    tsa,
    clock: { now: () => new Date() },
    idGenerator: sequentialIdGenerator(),
  });
  const evidence = join(dir, 'evidence.xml');
  writeFileSync(evidence, (await issueEvidence(evidenceSamples().SubmissionAcceptance, sealer)).xml);

  const cases: { name: string; args: string[]; goalMs?: number }[] = [
    { name: "node -e ''", args: ['-e', ''] },
    { name: 'qerds --help', args: [...cli, '--help'], goalMs: 500 },
    {
      name: 'qerds verify evidence.xml',
      args: [...cli, 'verify', '--trust', layout.caCert, '--trust', layout.caCrl, evidence],
      goalMs: 1000,
    },
  ];
  const timed = existsSync('/usr/bin/time');
  const results = cases.map(() => ({ wall: [] as number[], cpu: [] as number[] }));
  spawnSync(process.execPath, [...cli, '--help']); // warm the file cache
  for (let r = 0; r < runs; r++) {
    cases.forEach((c, i) => {
      const t0 = performance.now();
      const run = timed
        ? spawnSync('/usr/bin/time', ['-f', 'cpu %U %S', process.execPath, ...c.args], {
            cwd: dir,
            encoding: 'utf8',
          })
        : spawnSync(process.execPath, c.args, { cwd: dir, encoding: 'utf8' });
      results[i]!.wall.push(performance.now() - t0);
      if (run.status !== 0) throw new Error(`${c.name} exited ${run.status}: ${run.stderr.slice(0, 500)}`);
      const cpu = /cpu ([\d.]+) ([\d.]+)\s*$/.exec(run.stderr);
      if (cpu) results[i]!.cpu.push((Number(cpu[1]) + Number(cpu[2])) * 1000);
    });
  }
  console.log(
    `settings: ${runs} runs each, in turn, ${cli[0]!.includes('scratch') ? 'compiled (.scratch-bench-dist/cli/main.js)' : 'from dist/ through bin/qerds.js'}; verify: a B-T evidence (RSA-2048), dev CA + CRL as trust`,
  );
  const floor = percentile(results[0]!.wall, 50);
  cases.forEach((c, i) => {
    const { wall, cpu } = results[i]!;
    const p50 = percentile(wall, 50);
    const goal =
      c.goalMs === undefined
        ? ''
        : `, goal < ${formatMs(c.goalMs)} wall: ${p50 < c.goalMs ? 'met' : 'NOT met'}`;
    console.log(
      `  ${c.name.padEnd(27)} wall p50 ${formatMs(p50)} (max ${formatMs(Math.max(...wall))}, ${(p50 / floor).toFixed(1)}× node's own start)` +
        `${cpu.length ? `, CPU p50 ${formatMs(percentile(cpu, 50))}` : ''}${goal}`,
    );
  });
  rmSync(dir, { recursive: true, force: true });
}

/** A compiled tree whose cli/main.js is newer than every source file. */
function isFresh(outDir: string): boolean {
  const main = join(outDir, 'cli', 'main.js');
  if (!existsSync(main)) return false;
  const newer = spawnSync('find', [join(root, 'src'), '-name', '*.ts', '-newer', main, '-print', '-quit'], {
    encoding: 'utf8',
  });
  return newer.status === 0 && newer.stdout.trim() === '';
}
