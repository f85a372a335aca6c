import { spawn } from 'node:child_process';

export interface SwaksResult {
  readonly status: number | null;
  /** The whole transcript (stdout and stderr interleaved as swaks prints them). */
  readonly transcript: string;
  /** Server reply lines (swaks prints them bare, without arrows, when its output is not a terminal). */
  readonly replies: readonly string[];
}

/** Runs swaks (an SMTP client we did not write) and collects its transcript. */
export function swaks(args: readonly string[], timeoutMs = 20_000): Promise<SwaksResult> {
  return new Promise((resolve, reject) => {
    const child = spawn('swaks', ['--no-hints', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let transcript = '';
    child.stdout.on('data', (d: Buffer) => (transcript += d.toString('utf8')));
    child.stderr.on('data', (d: Buffer) => (transcript += d.toString('utf8')));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.once('error', reject);
    child.once('close', (status) => {
      clearTimeout(timer);
      const replies = transcript
        .split('\n')
        .map((l) => l.trimEnd())
        .filter((l) => /^[2-5]\d\d(?:[ -]|$)/.test(l));
      resolve({ status, transcript, replies });
    });
  });
}
