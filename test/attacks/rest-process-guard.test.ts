import { spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { stringify as toYaml } from 'yaml';
import { sharedTestPki } from '../helpers/pki.js';
import { waitFor } from '../helpers/wait.js';
import { rawRequest, RECIPIENT, SENDER, submitValid } from './rest-ap.js';
import { devApId } from '../../src/pki/dev-ap-id.js';

/**
 * "One request kills the AP", on real processes: the truncated multipart form against a running
 * `qerds start` (the process must answer 400 and go on serving), and the process guard that keeps a
 * process serving when an error escapes a request anyway (and exits when errors keep coming).
 */
const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const work = mkdtempSync(join(tmpdir(), 'qerds-guard-'));
const children = new Set<ChildProcess>();

interface Running {
  readonly child: ChildProcess;
  readonly output: () => string;
  readonly exited: Promise<number | null>;
}

/** Spawns `args` with node, resolves once stdout matches `ready` (with its match). */
function run(
  args: string[],
  ready: RegExp,
  env: Record<string, string> = {},
  cwd = work,
): Promise<{ running: Running; match: RegExpMatchArray }> {
  const child = spawn(process.execPath, args, {
    cwd,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.add(child);
  const chunks: string[] = [];
  const exited = new Promise<number | null>((done) =>
    child.once('exit', (code) => (children.delete(child), done(code))),
  );
  const running: Running = { child, output: () => chunks.join(''), exited };
  return new Promise((resolveStart, reject) => {
    const timer = setTimeout(() => reject(new Error(`not ready within 90 s:\n${running.output()}`)), 90_000);
    const keep = (chunk: Buffer) => {
      chunks.push(chunk.toString());
      const match = ready.exec(running.output());
      if (match) {
        clearTimeout(timer);
        resolveStart({ running, match });
      }
    };
    child.stdout!.on('data', keep);
    child.stderr!.on('data', (chunk: Buffer) => chunks.push(chunk.toString()));
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`exited with ${code} before it was ready:\n${running.output()}`));
    });
  });
}

afterAll(async () => {
  for (const child of children) child.kill('SIGKILL');
  rmSync(work, { recursive: true, force: true });
});

describe('a running qerds start', () => {
  it('answers a truncated multipart form with 400 and keeps serving', async () => {
    const pki = sharedTestPki();
    const config = join(work, 'ap.yaml');
    writeFileSync(
      config,
      toYaml({
        ap: { id: devApId('c2'), name: 'Guard test AP' },
        http: { port: 0 },
        store: { sqliteFile: join(work, 'ap.sqlite'), blobDir: join(work, 'blobs') },
        pki: { dir: pki.dir, apName: 'c2' },
        relay: { maxAttempts: 1, baseDelayMs: 600_000 },
        directory: {
          participants: [{ id: RECIPIENT.id, name: RECIPIENT.name, endpoint: 'https://127.0.0.1:9/as4' }],
        },
        accounts: [
          {
            participant: SENDER.id,
            name: SENDER.name,
            ial: 2,
            credentials: [
              { kind: 'apiKey', keySha256: createHash('sha256').update(SENDER.key).digest('hex') },
            ],
          },
        ],
        log: { level: 'warn' },
      }),
    );
    const { running, match } = await run(
      [join(root, 'bin/qerds.js'), 'start', '-c', config],
      /listening on (http:\/\/[\d.]+:\d+)/,
    );
    const url = match[1]!;
    const body = '--xx\r\nContent-Disposition: form-data; name="p"; filename="a"\r\n\r\nabc';
    for (let i = 0; i < 3; i++) {
      const response = await rawRequest(`${url}/api/v1/messages`, {
        headers: { 'x-api-key': SENDER.key, 'content-type': 'multipart/form-data; boundary=xx' },
        body,
      });
      expect(response.status).toBe(400);
      expect(response.json()).toMatchObject({
        type: 'urn:qerds-ap:problem:BAD_REQUEST',
        code: 'BAD_REQUEST',
      });
    }
    expect((await submitValid(url)).status).toBe(201);
    expect(running.child.exitCode).toBeNull();
    // Nothing escaped: the guard never had to step in.
    expect(running.output()).not.toMatch(/escaped its request/);
    running.child.kill('SIGTERM');
    expect(await running.exited).toBe(0);
  }, 120_000);
});

describe('process guard', () => {
  const child = (env: Record<string, string> = {}) =>
    run(['--import', 'tsx', join(root, 'test/attacks/guard-child.ts')], /listening on (\d+)/, env, root);
  const get = async (port: string, path: string) => {
    const response = await fetch(`http://127.0.0.1:${port}${path}`);
    return { status: response.status, text: await response.text() };
  };

  it('logs an error that escaped a request and goes on serving', async () => {
    const { running, match } = await child();
    const port = match[1]!;
    expect((await get(port, '/escape')).status).toBe(200);
    expect((await get(port, '/escape')).status).toBe(200);
    expect(await get(port, '/ok')).toEqual({ status: 200, text: 'ok\n' });
    expect(running.child.exitCode).toBeNull();
    // The child's log lines reach us through a pipe: wait for them rather than read them at once.
    await waitFor(
      () =>
        (running.output().match(/an error escaped its request; still serving/g) ?? []).length >= 2
          ? true
          : undefined,
      { timeoutMs: 60_000, what: "the guard's two log lines" },
    );
    expect(running.output().match(/an error escaped its request; still serving/g)).toHaveLength(2);
    expect(running.output()).toMatch(/Unexpected end of form/);
    running.child.kill('SIGTERM');
    await running.exited;
  }, 120_000);

  it('exits (for a supervisor to restart it) once more errors escape than its budget allows', async () => {
    const { running, match } = await child({ GUARD_MAX_ERRORS: '1' });
    const port = match[1]!;
    expect((await get(port, '/escape')).status).toBe(200);
    expect((await get(port, '/escape')).status).toBe(200);
    expect(await running.exited).toBe(1);
    expect(running.output()).toMatch(/too many escaped errors: exiting/);
  }, 120_000);
});
