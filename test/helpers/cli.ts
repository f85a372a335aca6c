import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = fileURLToPath(new URL('../..', import.meta.url));
const main = pathToFileURL(join(root, 'src/cli/main.ts')).href;

export interface CliResult {
  readonly status: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/**
 * The real CLI launched as a user would (bin/qerds.js in a new node process). Seconds of CPU each (tsx compiles
 * the CLI's sources): one launch per command proves the entry point, the rest go through qerdsInProcess().
 */
export function qerdsLaunched(
  args: readonly string[],
  options: { cwd?: string; env?: NodeJS.ProcessEnv } = {},
): CliResult {
  const r = spawnSync(process.execPath, [join(root, 'bin/qerds.js'), ...args], {
    cwd: options.cwd ?? root,
    encoding: 'utf8',
    env: options.env ?? process.env,
  });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

let runs = 0;
/** The previous run's end: runs are queued, since the streams and process.exitCode are the process's. */
let previous: Promise<unknown> = Promise.resolve();

/**
 * The CLI's own entry (src/cli/main.ts, its parsing, commands and exit codes) run inside this test process: what
 * `qerds <args>` prints on stdout and stderr and the exit status it sets. main.ts is imported afresh for each run
 * (a new query makes it a new module; the command modules it imports are loaded once), with process.argv set to
 * the arguments and the two streams captured for the duration. Calls made at once run one after the other.
 */
export function qerdsInProcess(
  args: readonly string[],
  options: { env?: Record<string, string> } = {},
): Promise<CliResult> {
  const run = previous.then(() => runOnce(args, options));
  previous = run.catch(() => undefined);
  return run;
}

async function runOnce(
  args: readonly string[],
  options: { env?: Record<string, string> },
): Promise<CliResult> {
  const saved = {
    argv: process.argv,
    exitCode: process.exitCode,
    out: process.stdout.write,
    err: process.stderr.write,
  };
  const savedEnv = Object.fromEntries(Object.keys(options.env ?? {}).map((k) => [k, process.env[k]]));
  let stdout = '';
  let stderr = '';
  const capture = (append: (text: string) => void) =>
    ((chunk: string | Uint8Array, ...rest: unknown[]) => {
      append(typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8'));
      const callback = rest.find((r) => typeof r === 'function') as (() => void) | undefined;
      callback?.();
      return true;
    }) as typeof process.stdout.write;
  try {
    process.argv = [process.execPath, join(root, 'bin/qerds.js'), ...args];
    process.exitCode = undefined;
    Object.assign(process.env, options.env);
    process.stdout.write = capture((t) => (stdout += t));
    process.stderr.write = capture((t) => (stderr += t));
    await import(/* @vite-ignore */ `${main}?run=${++runs}`);
    return { status: Number(process.exitCode ?? 0), stdout, stderr };
  } finally {
    process.stdout.write = saved.out;
    process.stderr.write = saved.err;
    process.argv = saved.argv;
    process.exitCode = saved.exitCode;
    for (const [k, v] of Object.entries(savedEnv)) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  }
}
