import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { testPostgresUrl } from '../helpers/postgres.js';
import { testRedis } from '../helpers/redis.js';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

/** `qerds demo --postgres … --redis …`: the walking skeleton on the production setup (PostgreSQL store, BullMQ queues). */
describe('qerds demo on PostgreSQL and BullMQ', () => {
  const work = mkdtempSync(join(tmpdir(), 'qerds-demo-prod-'));
  const name = `qerds_demo_${randomBytes(4).toString('hex')}`;

  afterAll(async () => {
    const admin = new pg.Client({ connectionString: testPostgresUrl });
    await admin.connect();
    for (const ap of ['c2', 'c3']) await admin.query(`drop schema if exists ${name}_${ap} cascade`);
    await admin.end();
    const redis = await testRedis();
    for (const ap of ['c2', 'c3']) redis.deletePrefix(`${name}-${ap}`);
    rmSync(work, { recursive: true, force: true });
  });

  it('sends, hands over and verifies the evidence chain, with each AP in its own schema and key prefix', async () => {
    const redis = await testRedis();
    const result = spawnSync(
      process.execPath,
      [
        join(root, 'bin/qerds.js'),
        'demo',
        '--out',
        join(work, 'out'),
        '--pki',
        join(work, 'pki'),
        '--invoice',
        join(root, 'examples/ubl-invoice-jp.xml'),
        '--timeout',
        '120000',
        '--postgres',
        testPostgresUrl,
        '--redis',
        redis.url,
        '--name',
        name,
      ],
      { cwd: root, encoding: 'utf8', timeout: 240_000 },
    );
    expect(result.status, result.stdout + result.stderr).toBe(0);
    expect(result.stdout).toContain(`store, queue        postgres (schemas ${name}_c2, ${name}_c3), bullmq`);
    expect(result.stdout).toMatch(/4-ContentHandover\.xml: VALID/);
    const admin = new pg.Client({ connectionString: testPostgresUrl });
    await admin.connect();
    try {
      const { rows } = await admin.query<{ n: number }>(
        `select count(*)::int as n from ${name}_c3.messages where state = 'delivered'`,
      );
      expect(rows[0]!.n).toBe(1);
    } finally {
      await admin.end();
    }
    expect(redis.cli('--scan', '--pattern', `${name}-c2*`).trim()).not.toBe('');
  }, 300_000);
});
