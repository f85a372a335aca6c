import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { prettyLine, resolveLogFormat } from '../../src/cli/log-output.js';
import { initDevPki } from '../../src/pki/index.js';
import { waitFor } from '../helpers/wait.js';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

describe('log lines a person can read', () => {
  it('a pino record is one line: time, level, message, then key=value, quoted when it must be', () => {
    const line = prettyLine({
      level: 30,
      time: Date.UTC(2026, 11, 7, 8, 41, 7, 123),
      pid: 1,
      hostname: 'h',
      ap: 'urn:x',
      msg: 'access point started',
      url: 'http://127.0.0.1:8080',
      workers: ['relay'],
    });
    expect(line).toBe(
      '08:41:07.123 INFO  access point started ap=urn:x url=http://127.0.0.1:8080 workers=["relay"]',
    );
    // A value with a line break cannot make a second line (log forging); an error is its type and message.
    const forged = prettyLine({
      level: 50,
      time: 0,
      msg: 'refused',
      subject: 'a\n08:00:00.000 INFO  forged',
      err: { type: 'QerdsError', code: 'X', message: 'bad\nthing', stack: 'at …' },
    });
    expect(forged.split('\n')).toHaveLength(1);
    expect(forged).toBe(
      '00:00:00.000 ERROR refused subject="a\\n08:00:00.000 INFO  forged" err="QerdsError X: bad\\nthing"',
    );
  });

  it('auto is pretty on a terminal and JSON otherwise', () => {
    expect(resolveLogFormat('auto', true)).toBe('pretty');
    expect(resolveLogFormat('auto', false)).toBe('json');
    expect(resolveLogFormat('json', true)).toBe('json');
    expect(resolveLogFormat('pretty', false)).toBe('pretty');
  });
});

/** `qerds start` as an operator runs it: a start line, one access line per request (no key in it), stop lines. */
describe('qerds start: start, access and stop lines', () => {
  const work = mkdtempSync(join(tmpdir(), 'qerds-logs-'));
  const key = 'log-test-api-key-0123456789abcdef';
  const config = join(work, 'ap.yaml');

  beforeAll(async () => {
    await initDevPki({ dir: join(work, 'pki') });
    writeFileSync(
      config,
      [
        'ap: { name: log-test, id: "urn:qerds-ap:ap:c2" }',
        'http: { port: 0 }',
        `pki: { dir: ${join(work, 'pki')}, apName: c2 }`,
        `store: { sqliteFile: ${join(work, 'db.sqlite')}, blobDir: ${join(work, 'blobs')} }`,
        `apiKeys: [{ key: ${key}, participant: "0188:1234567890123", name: Sender }]`,
      ].join('\n'),
    );
  }, 60_000);
  afterAll(() => rmSync(work, { recursive: true, force: true }));

  /** Runs `qerds start` until the test stops it; its stdout as it arrives. */
  function start(...extra: string[]): {
    child: ChildProcess;
    out: () => string;
    exited: Promise<number | null>;
  } {
    let out = '';
    const child = spawn(
      process.execPath,
      [join(root, 'bin/qerds.js'), 'start', '--config', config, ...extra],
      { cwd: work, env: { ...process.env, QERDS_LOG_FORMAT: '', QERDS_DEBUG: '' } },
    );
    child.stdout!.on('data', (chunk: Buffer) => (out += chunk.toString()));
    child.stderr!.on('data', (chunk: Buffer) => (out += chunk.toString()));
    const exited = new Promise<number | null>((resolveExit) =>
      child.once('exit', (code) => resolveExit(code)),
    );
    return { child, out: () => out, exited };
  }
  const urlOf = (out: string) => /listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(out)?.[1];

  it('pretty: says where it listens and on what, logs each request on one line without the key, and says when it stops', async () => {
    const ap = start('--log-format', 'pretty');
    const url = await waitFor(() => urlOf(ap.out()), { timeoutMs: 90_000, what: 'the start line' });
    expect(ap.out()).toMatch(
      /qerds-ap "log-test" listening on http:\/\/127\.0\.0\.1:\d+ \(AS4 \S+\/as4; store sqlite \S+db\.sqlite, queue in-process; workers in this process\)/,
    );

    const response = await fetch(`${url}/api/v1/inbox`, {
      headers: { authorization: `Bearer ${key}`, 'x-request-id': 'req-logs-1' },
    });
    expect(response.status).toBe(200);
    const access = await waitFor(
      () =>
        ap
          .out()
          .split('\n')
          .find((l) => l.includes('requestId=req-logs-1')),
      { what: 'the access line' },
    );
    expect(access).toMatch(
      /^\d\d:\d\d:\d\d\.\d{3} INFO {2}http ap=urn:qerds-ap:ap:c2 requestId=req-logs-1 method=GET path=\/api\/v1\/inbox status=200 ms=[\d.]+$/,
    );

    ap.child.kill('SIGTERM');
    expect(await ap.exited).toBe(0);
    const out = ap.out();
    expect(out).toMatch(/qerds-ap "log-test" stopping \(SIGTERM\): finishing in-flight requests and jobs\n/);
    expect(out).toMatch(/qerds-ap "log-test" stopped after \d+ ms\n/);
    expect(out).not.toContain(key);
    // Every line is one record: none starts with whitespace (a continued value) or a brace (JSON).
    expect(out.split('\n').filter((l) => /^\s|^\{/.test(l))).toEqual([]);
  }, 120_000);

  it('not on a terminal (auto): JSON lines, the access line with its fields', async () => {
    const ap = start();
    const url = await waitFor(() => urlOf(ap.out()), { timeoutMs: 90_000, what: 'the start line' });
    await fetch(`${url}/api/v1/messages/none`, {
      headers: { authorization: `Bearer ${key}`, 'x-request-id': 'req-logs-2' },
    });
    const line = await waitFor(
      () =>
        ap
          .out()
          .split('\n')
          .find((l) => l.includes('"requestId":"req-logs-2"') && l.includes('"msg":"http"')),
      { what: 'the access line' },
    );
    expect(JSON.parse(line)).toMatchObject({
      level: 30,
      ap: 'urn:qerds-ap:ap:c2',
      requestId: 'req-logs-2',
      method: 'GET',
      path: '/api/v1/messages/none',
      status: 404,
      msg: 'http',
    });
    ap.child.kill('SIGTERM');
    expect(await ap.exited).toBe(0);
    expect(ap.out()).not.toContain(key);
  }, 120_000);
});
