import { execFile } from 'node:child_process';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

/**
 * `npm run soak` is opt-in (10 000 messages take minutes); this runs the same script with 300 messages on every
 * test run, so that its checks (zero lost, zero duplicated, every evidence chain verifies; two APs × API + 2 workers
 * on PostgreSQL + BullMQ) keep working and keep holding. Evidence returned under load travels grouped here.
 */
describe('soak script, small', () => {
  it('300 messages through two APs × (API + 2 workers): zero lost, zero duplicated, every chain verifies', async () => {
    const { stdout } = await promisify(execFile)(
      process.execPath,
      [join(root, 'node_modules/tsx/dist/cli.mjs'), join(root, 'test/scale/soak.ts')],
      {
        cwd: root,
        env: {
          ...process.env,
          QERDS_SOAK_MESSAGES: '300',
          QERDS_SOAK_IDLE_MS: '1000',
          QERDS_SOAK_MAX_MS: '240000',
          QERDS_SOAK_VERIFY_MAX_MS: '120000',
        },
        maxBuffer: 16 * 1024 * 1024,
      },
    );
    process.stdout.write(stdout);
    expect(stdout).toMatch(/zero lost, zero duplicated/);
    expect(stdout).toMatch(/900 evidence verified/);
    expect(stdout).toMatch(/soak PASSED: 300 messages/);
  }, 400_000);
});
