import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

/** What an operator sees when a command fails: one line naming the problem, no stack trace. */
describe('qerds: errors are one line', () => {
  const work = mkdtempSync(join(tmpdir(), 'qerds-cli-errors-'));
  afterAll(() => rmSync(work, { recursive: true, force: true }));
  const qerds = (...args: string[]) =>
    spawnSync(process.execPath, [join(root, 'bin/qerds.js'), ...args], {
      cwd: work,
      encoding: 'utf8',
      timeout: 120_000,
      env: { ...process.env, QERDS_DEBUG: '' },
    });
  const lines = (text: string) => text.split('\n').filter((l) => l.trim() !== '');

  it('an unreachable AP: exit 1, the error and its cause on one line', () => {
    const file = join(work, 'invoice.xml');
    writeFileSync(file, '<Invoice/>');
    // Port 2 on loopback: nothing listens there (privileged, unassigned), the connection is refused.
    const result = qerds('send', '--api', 'http://127.0.0.1:2', '--key', 'k', '--to', '0188:1', file);
    expect(result.status).toBe(1);
    expect(lines(result.stderr)).toHaveLength(1);
    expect(result.stderr).toMatch(/^qerds: fetch failed: .*ECONNREFUSED/);
    expect(result.stderr).not.toMatch(/\n\s+at /);
  }, 150_000);

  it('a configuration naming a missing TSA certificate: exit 2, one line naming tsa.cert and the path', () => {
    const config = join(work, 'ap.yaml');
    writeFileSync(
      config,
      `pki:\n  dir: ${join(work, 'pki')}\ntsa:\n  cert: ${join(work, 'gone', 'tsa.crt.pem')}\nstore:\n  sqliteFile: ${join(work, 'db.sqlite')}\n`,
    );
    const init = qerds('pki', 'init', '--dir', join(work, 'pki'));
    expect(init.status, init.stderr).toBe(0);
    const result = qerds('start', '--config', config);
    expect(result.status).toBe(2);
    expect(lines(result.stderr)).toEqual([
      `qerds: CONFIG_INVALID: tsa.cert: ${join(work, 'gone', 'tsa.crt.pem')} not found`,
    ]);
  }, 200_000);
});
