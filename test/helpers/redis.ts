import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { claimPort } from './ports.js';

/**
 * Redis for the queue tests: a real server, driven with redis-cli (an independent tool). The shared
 * one at QERDS_TEST_REDIS_URL (default redis://127.0.0.1:6379) when it answers; otherwise a private
 * redis-server in a temp dir. When neither works the test FAILS with the reason, never skips.
 */
export interface TestRedis {
  readonly url: string;
  readonly host: string;
  readonly port: number;
  /** Runs redis-cli against this server; returns its stdout. */
  cli(...args: string[]): string;
  /** Deletes every key under `prefix` (what FLUSHALL would do to this test's data, sparing others'). */
  deletePrefix(prefix: string): number;
}

const sharedUrl = process.env.QERDS_TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';
let shared: Promise<TestRedis> | undefined;
const started: PrivateRedis[] = [];

/** The shared Redis (or a private one when the shared one does not answer). */
export function testRedis(): Promise<TestRedis> {
  shared ??= (async () => {
    const url = new URL(sharedUrl);
    const candidate = handle(url.hostname, Number(url.port || 6379));
    try {
      if (candidate.cli('PING').trim() === 'PONG') return candidate;
    } catch {
      // not reachable: start our own below
    }
    try {
      return await startPrivateRedis();
    } catch (error) {
      throw new Error(
        `Redis is not reachable at ${sharedUrl} and redis-server could not be started (${(error as Error).message}). Install redis-server or point QERDS_TEST_REDIS_URL at a server.`,
      );
    }
  })();
  return shared;
}

export interface PrivateRedis extends TestRedis {
  /** kill -9 the server (its data is lost: no persistence). */
  kill(): Promise<void>;
  /** Starts it again on the same port, empty. */
  restart(): Promise<void>;
  stop(): Promise<void>;
}

/** A redis-server of this test alone (no persistence), on a free port, for killing and restarting. */
export async function startPrivateRedis(): Promise<PrivateRedis> {
  const dir = mkdtempSync(join(tmpdir(), 'qerds-redis-'));
  // Claimed, not port 0: redis-server takes its port on the command line, and a restart must get the same one.
  const port = await claimPort();
  let child: ChildProcess | undefined;
  const base = handle('127.0.0.1', port);
  const launch = async () => {
    child = spawn(
      'redis-server',
      ['--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--save', '', '--appendonly', 'no'],
      { stdio: 'ignore' },
    );
    const deadline = Date.now() + 5000;
    for (;;) {
      try {
        if (base.cli('PING').trim() === 'PONG') return;
      } catch {
        // not up yet
      }
      if (Date.now() > deadline) throw new Error(`redis-server on port ${port} did not answer within 5 s`);
      await new Promise((r) => setTimeout(r, 50));
    }
  };
  const kill = async () => {
    const c = child;
    if (!c || c.exitCode !== null || c.signalCode !== null) return;
    await new Promise<void>((resolve) => {
      c.once('exit', () => resolve());
      c.kill('SIGKILL');
    });
  };
  await launch();
  const redis: PrivateRedis = {
    ...base,
    kill,
    async restart() {
      await kill();
      await launch();
    },
    async stop() {
      await kill();
      rmSync(dir, { recursive: true, force: true });
    },
  };
  started.push(redis);
  return redis;
}

/** Stops every private Redis this process started (call from afterAll). */
export async function stopPrivateRedis(): Promise<void> {
  for (const redis of started.splice(0)) await redis.stop();
}

/** A fresh key prefix for one test run. */
export function randomPrefix(): string {
  return `qerds-test-${randomBytes(5).toString('hex')}`;
}

function handle(host: string, port: number): TestRedis {
  const cli = (...args: string[]) =>
    execFileSync('redis-cli', ['-h', host, '-p', String(port), ...args], {
      encoding: 'utf8',
      timeout: 5000,
      stdio: 'pipe',
    });
  return {
    url: `redis://${host}:${port}`,
    host,
    port,
    cli,
    deletePrefix(prefix) {
      const keys = cli('--scan', '--pattern', `${prefix}:*`).split('\n').filter(Boolean);
      for (let i = 0; i < keys.length; i += 200) cli('DEL', ...keys.slice(i, i + 200));
      return keys.length;
    },
  };
}
