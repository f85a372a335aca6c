/**
 * Summarises V8 .cpuprofile files (node --cpu-prof, or the inspector Profiler): the functions with the
 * most self time, summed over every file given, and the share of each top-level module folder.
 * Usage: tsx bench/cpu-profile-summary.ts [--top N] [--from S] [--per N] file.cpuprofile…
 * `--from S` skips each profile's first S seconds: a process's start-up (loading and compiling modules)
 * out of the figures, to see what the steady state (e.g. a soak's traffic) costs.
 * `--per N` also prints each line as CPU ms per unit (idle excluded), e.g. per message of an N-message run.
 */
import { readFileSync } from 'node:fs';

interface ProfileNode {
  readonly id: number;
  readonly callFrame: { readonly functionName: string; readonly url: string; readonly lineNumber: number };
  readonly children?: readonly number[];
}
interface Profile {
  readonly nodes: readonly ProfileNode[];
  readonly samples: readonly number[];
  readonly timeDeltas: readonly number[];
}

const args = process.argv.slice(2);
const topAt = args.indexOf('--top');
const top = topAt >= 0 ? Number(args.splice(topAt, 2)[1]) : 30;
const fromAt = args.indexOf('--from');
const fromUs = fromAt >= 0 ? Number(args.splice(fromAt, 2)[1]) * 1e6 : 0;
const perAt = args.indexOf('--per');
const per = perAt >= 0 ? Number(args.splice(perAt, 2)[1]) : 0;
const selfUs = new Map<string, number>();
/** Time with the function anywhere on the stack (counted once per sample), for the project's own functions. */
const inclusiveUs = new Map<string, number>();
const byArea = new Map<string, number>();
let totalUs = 0;

/** Where a function lives: src/<module>, a package in node_modules, node internals, or idle/GC. */
function area(url: string, name: string): string {
  if (!url) return name.startsWith('(') ? name : '(native)';
  const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (pkg) return `npm:${pkg[1]}`;
  const src = /\/src\/([^/]+)/.exec(url);
  if (src) return `src/${src[1]}`;
  if (url.startsWith('node:')) return 'node internals';
  return url.replace(/^file:\/\//, '');
}

for (const file of args) {
  const profile = JSON.parse(readFileSync(file, 'utf8')) as Profile;
  const nodes = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  let sinceStartUs = 0;
  profile.samples.forEach((id, i) => {
    const node = nodes.get(id);
    const dt = profile.timeDeltas[i] ?? 0;
    sinceStartUs += dt;
    if (!node || sinceStartUs < fromUs) return;
    const { functionName, url, lineNumber } = node.callFrame;
    const key = `${functionName || '(anonymous)'} ${url.replace(/^.*\/(src|node_modules)\//, '$1/')}:${lineNumber + 1}`;
    selfUs.set(key, (selfUs.get(key) ?? 0) + dt);
    const a = area(url, functionName);
    byArea.set(a, (byArea.get(a) ?? 0) + dt);
    totalUs += dt;
    const onStack = new Set<string>();
    for (let at: number | undefined = id; at !== undefined; at = parent.get(at)) {
      const frame = nodes.get(at)!.callFrame;
      if (!/\/src\//.test(frame.url) || frame.url.includes('node_modules')) continue;
      onStack.add(
        `${frame.functionName || '(anonymous)'} ${frame.url.replace(/^.*\/src\//, 'src/')}:${frame.lineNumber + 1}`,
      );
    }
    for (const k of onStack) inclusiveUs.set(k, (inclusiveUs.get(k) ?? 0) + dt);
  });
}

const idleUs = byArea.get('(idle)') ?? 0;
const perUnit = (us: number) => (per > 0 ? `  ${(us / 1000 / per).toFixed(2).padStart(6)} ms` : '');
const pct = (us: number) => `${((100 * us) / totalUs).toFixed(1).padStart(5)} %${perUnit(us)}`;
console.log(
  `${args.length} profiles, ${(totalUs / 1e6).toFixed(1)} s sampled, ${((totalUs - idleUs) / 1e6).toFixed(1)} s busy${per > 0 ? `: ${((totalUs - idleUs) / 1000 / per).toFixed(1)} ms per unit over ${per}` : ''}`,
);
console.log('\nby area (self time):');
for (const [a, us] of [...byArea].sort((x, y) => y[1] - x[1]).slice(0, 20)) console.log(`${pct(us)}  ${a}`);
console.log(`\ntop ${top} functions (self time):`);
for (const [k, us] of [...selfUs].sort((x, y) => y[1] - x[1]).slice(0, top)) console.log(`${pct(us)}  ${k}`);
console.log(`\ntop ${top} project functions (inclusive time, idle excluded by construction):`);
for (const [k, us] of [...inclusiveUs].sort((x, y) => y[1] - x[1]).slice(0, top))
  console.log(`${pct(us)}  ${k}`);
