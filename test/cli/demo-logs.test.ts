import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { devTrustListXml } from '../../src/trust-list/index.js';
import { qerdsInProcess } from '../helpers/cli.js';
import { devTestPki } from '../helpers/pki.js';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

/** `qerds demo` logs as `qerds start` does: --log-format pretty or json (auto: pretty on a terminal). */
describe('qerds demo --log-format', () => {
  const work = mkdtempSync(join(tmpdir(), 'qerds-demo-logs-'));
  const pki = join(work, 'pki');
  beforeAll(async () => {
    await devTestPki(pki, { trustList: devTrustListXml });
  });
  afterAll(() => rmSync(work, { recursive: true, force: true }));

  const demo = (format: string) =>
    qerdsInProcess(
      [
        'demo',
        '--out',
        join(work, `out-${format}`),
        '--pki',
        pki,
        '--invoice',
        join(root, 'examples/ubl-invoice-jp.xml'),
        '--timeout',
        '120000',
        '--log-level',
        'info',
        '--log-format',
        format,
      ],
      { env: { QERDS_DEBUG: '' } },
    );
  const started = (out: string) => out.split('\n').filter((l) => l.includes('access point started'));

  it('pretty: one readable line per record, naming its AP; no JSON', async () => {
    const result = await demo('pretty');
    expect(result.status, result.stdout + result.stderr).toBe(0);
    expect(result.stdout).toMatch(/4-ContentHandover\.xml: VALID/);
    const lines = started(result.stdout);
    expect(lines).toHaveLength(2);
    for (const ap of ['c2', 'c3'])
      expect(lines.find((l) => l.includes(`ap=urn:qerds-ap:ap:${ap} `))).toMatch(
        /^\d\d:\d\d:\d\d\.\d{3} INFO {2}access point started ap=urn:qerds-ap:ap:c[23] url=http:\/\/127\.0\.0\.1:\d+ /,
      );
    // The APs' steps are there too (info), and no line of the run is a JSON record.
    expect(result.stdout).toMatch(/^\S+ INFO {2}submission recorded ap=urn:qerds-ap:ap:c2 /m);
    expect(result.stdout.split('\n').filter((l) => l.startsWith('{'))).toEqual([]);
  }, 240_000);

  it('json: one JSON record per line, naming its AP', async () => {
    const result = await demo('json');
    expect(result.status, result.stdout + result.stderr).toBe(0);
    expect(result.stdout).toMatch(/4-ContentHandover\.xml: VALID/);
    const lines = started(result.stdout);
    expect(lines).toHaveLength(2);
    expect(lines.map((l) => JSON.parse(l) as { ap: string; msg: string; level: number })).toEqual(
      expect.arrayContaining(
        ['c2', 'c3'].map((ap) =>
          expect.objectContaining({ ap: `urn:qerds-ap:ap:${ap}`, msg: 'access point started', level: 30 }),
        ),
      ),
    );
    const records = result.stdout.split('\n').filter((l) => l.startsWith('{'));
    expect(records.some((l) => (JSON.parse(l) as { msg: string }).msg === 'submission recorded')).toBe(true);
    expect(result.stdout).not.toMatch(/^\d\d:\d\d:\d\d\.\d{3} INFO /m);
  }, 240_000);
});
