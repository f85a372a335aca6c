import { spawn } from 'node:child_process';

/** What one run of an external validator gave back. */
export interface ProcessOutcome {
  /** Exit status; `null` when the process ended by a signal (timeout, output bound, killed). */
  readonly status: number | null;
  readonly stdout: string;
  readonly stderr: string;
  /** Why the run was cut short by us, or why it could not start (ENOENT…). */
  readonly failure?: 'timeout' | 'output-too-large' | 'spawn';
  readonly spawnError?: string;
  /** Wall time of the run, in ms. */
  readonly ms: number;
}

export interface BoundedRun {
  readonly command: string;
  readonly args: readonly string[];
  readonly stdin: Buffer;
  readonly timeoutMs: number;
  /** Largest stdout + stderr kept; past it the process is killed (a validator answering without end). */
  readonly maxOutputBytes: number;
}

/**
 * Runs an external validator (xmllint, java) on one document fed on stdin, bounded in time and output, with an
 * environment of PATH and a C locale only (no proxy variables: the validators are also told not to use the
 * network). Never throws: a process that cannot start, times out or floods its output is an outcome the caller
 * turns into its own error, so a validator's failure cannot take the AP down.
 */
export function runBounded(run: BoundedRun): Promise<ProcessOutcome> {
  const started = Date.now();
  return new Promise((resolve) => {
    let settled = false;
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    let size = 0;
    let failure: ProcessOutcome['failure'];
    const child = spawn(run.command, [...run.args], {
      stdio: ['pipe', 'pipe', 'pipe'],
      env: { PATH: process.env.PATH ?? '/usr/bin:/bin', LC_ALL: 'C' },
    });
    const kill = (why: NonNullable<ProcessOutcome['failure']>) => {
      failure ??= why;
      child.kill('SIGKILL');
    };
    const timer = setTimeout(() => kill('timeout'), run.timeoutMs);
    const collect = (into: Buffer[]) => (chunk: Buffer) => {
      size += chunk.length;
      if (size > run.maxOutputBytes) kill('output-too-large');
      else into.push(chunk);
    };
    child.stdout.on('data', collect(out));
    child.stderr.on('data', collect(err));
    // The child may exit (or fail to start) before it has read its input: EPIPE is its answer, not ours to throw.
    child.stdin.on('error', () => undefined);
    child.on('error', (error) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      resolve({
        status: null,
        stdout: '',
        stderr: '',
        failure: 'spawn',
        spawnError: error.message,
        ms: Date.now() - started,
      });
    });
    child.on('close', (status) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      resolve({
        status,
        stdout: Buffer.concat(out).toString('utf8'),
        stderr: Buffer.concat(err).toString('utf8'),
        ...(failure ? { failure } : {}),
        ms: Date.now() - started,
      });
    });
    child.stdin.end(run.stdin);
  });
}

/** At most `limit` runs at once; the others wait their turn (a burst of submissions must not fork a JVM each). */
export function concurrencyLimit(limit: number): <T>(task: () => Promise<T>) => Promise<T> {
  let running = 0;
  const waiting: (() => void)[] = [];
  return async (task) => {
    // A finishing run hands its slot to the first waiter, so a newcomer cannot slip in between.
    if (running >= limit) await new Promise<void>((go) => waiting.push(go));
    else running++;
    try {
      return await task();
    } finally {
      const next = waiting.shift();
      if (next) next();
      else running--;
    }
  };
}
