import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { stringify as toYaml } from 'yaml';
import { api, RECIPIENT, SENDER } from '../../src/harness/two-access-points.js';
import { devPkiLayout } from '../../src/pki/index.js';
import { startPrivateRedis, stopPrivateRedis, type PrivateRedis } from '../helpers/redis.js';
import { devApId } from '../../src/pki/dev-ap-id.js';
import { devTestPki } from '../helpers/pki.js';
import { claimPort } from '../helpers/ports.js';

/**
 * Crash tests with real processes: C2 runs as an API-only `qerds start --no-workers` plus a separate
 * `qerds worker`; C3 as one `qerds start`; PostgreSQL store, BullMQ on a private redis-server. While
 * messages are in flight the C2 worker is killed with SIGKILL and restarted, and Redis is killed and
 * restarted empty. Every message must still reach its final state, with exactly one evidence per event.
 */
const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const postgresUrl = process.env.QERDS_TEST_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const MESSAGES = 24;
const CHAIN_AT_C2 = ['ContentConsignment', 'RelayAcceptance', 'SubmissionAcceptance'];
const CHAIN_AT_C3 = ['ContentConsignment', 'RelayAcceptance'];

const work = mkdtempSync(join(tmpdir(), 'qerds-crash-'));
const run = randomBytes(4).toString('hex');
const schemas = { c2: `qerds_crash_${run}_c2`, c3: `qerds_crash_${run}_c3` };
const children = new Set<ChildProcess>();
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

afterAll(async () => {
  for (const child of children) child.kill('SIGKILL');
  const client = new pg.Client({ connectionString: postgresUrl });
  await client.connect();
  for (const schema of Object.values(schemas)) await client.query(`drop schema if exists ${schema} cascade`);
  await client.end();
  await stopPrivateRedis();
  rmSync(work, { recursive: true, force: true });
});

/** Starts `qerds <args>`; resolves once it printed `ready` on stdout. Its output is kept for failures. */
function qerds(args: string[], ready: RegExp, output: string[]): Promise<ChildProcess> {
  const child = spawn(process.execPath, [join(root, 'bin/qerds.js'), ...args], {
    cwd: work,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.add(child);
  child.once('exit', () => children.delete(child));
  return new Promise((resolveStarted, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`qerds ${args.join(' ')} did not start in 20 s:\n${output.join('')}`)),
      20_000,
    );
    child.stdout!.on('data', (chunk: Buffer) => {
      output.push(chunk.toString());
      if (ready.test(output.join(''))) {
        clearTimeout(timer);
        resolveStarted(child);
      }
    });
    child.stderr!.on('data', (chunk: Buffer) => output.push(chunk.toString()));
    child.once('exit', (code) =>
      reject(new Error(`qerds ${args.join(' ')} exited with ${code}:\n${output.join('')}`)),
    );
  });
}

function killHard(child: ChildProcess): Promise<void> {
  return new Promise((done) => {
    child.once('exit', () => done());
    child.kill('SIGKILL');
  });
}

async function query<T>(sql: string, params: unknown[] = []): Promise<T[]> {
  const client = new pg.Client({ connectionString: postgresUrl });
  await client.connect();
  try {
    return (await client.query(sql, params)).rows as T[];
  } finally {
    await client.end();
  }
}

describe('crash recovery with real processes (PostgreSQL + BullMQ)', () => {
  let redis: PrivateRedis;

  it('kill -9 of a worker mid-stage and a Redis restart that loses its data: every message ends once, one evidence per event', async () => {
    const t0 = Date.now();
    redis = await startPrivateRedis();
    const pkiDir = join(work, 'pki');
    await devTestPki(pkiDir);
    // Claimed, not port 0: child processes, and each AP's directory names both APs' endpoints before either listens.
    const [c2Port, c3Port] = await Promise.all([claimPort(), claimPort()]);
    // Each AP's AS4 encryption certificate: the default P-Modes encrypt AS4 payloads for the peer.
    const participants = [
      {
        id: SENDER.id,
        name: SENDER.name,
        endpoint: `http://127.0.0.1:${c2Port}/as4`,
        apEncryptionCertificate: devPkiLayout(pkiDir).ap('c2').encCert,
        apCertificate: devPkiLayout(pkiDir).ap('c2').sealCert,
      },
      {
        id: RECIPIENT.id,
        name: RECIPIENT.name,
        endpoint: `http://127.0.0.1:${c3Port}/as4`,
        apEncryptionCertificate: devPkiLayout(pkiDir).ap('c3').encCert,
        apCertificate: devPkiLayout(pkiDir).ap('c3').sealCert,
      },
    ];
    const config = (name: 'c2' | 'c3', port: number, account: typeof SENDER) => {
      const file = join(work, `${name}.yaml`);
      writeFileSync(
        file,
        toYaml({
          ap: { name: `crash ${name}`, id: devApId(name) },
          http: { port },
          store: {
            kind: 'postgres',
            postgresUrl,
            postgresSchema: schemas[name],
            blobDir: join(work, name, 'blobs'),
          },
          // Short lease and stalled check: a job lost with the worker or with Redis comes back within seconds.
          queue: {
            kind: 'bullmq',
            redisUrl: redis.url,
            prefix: `crash-${run}-${name}`,
            concurrency: 2,
            pollIntervalMs: 50,
            leaseMs: 3000,
            stalledIntervalMs: 1000,
          },
          relay: { baseDelayMs: 200, maxDelayMs: 1000, maxAttempts: 20 },
          pki: { dir: pkiDir, apName: name },
          directory: { participants },
          apiKeys: [{ key: account.key, participant: account.id, name: account.name }],
          log: { level: 'warn' },
        }),
      );
      return file;
    };
    const c2File = config('c2', c2Port, SENDER);
    const c3File = config('c3', c3Port, RECIPIENT);
    const logs = { c2api: [] as string[], c2worker: [] as string[], c3: [] as string[] };
    // One `qerds db migrate` per AP first (the processes would migrate too; this checks the command).
    for (const file of [c2File, c3File]) {
      const out: string[] = [];
      await qerds(['db', 'migrate', '-c', file], /store migrated \(postgres/, out);
    }
    await qerds(['start', '-c', c3File], /listening on/, logs.c3);
    await qerds(['start', '--no-workers', '-c', c2File], /listening on/, logs.c2api);
    let worker = await qerds(
      ['worker', '-c', c2File],
      /qerds worker .* running stages relay,deliver,notify/,
      logs.c2worker,
    );
    const c2 = `http://127.0.0.1:${c2Port}`;

    const ids: string[] = [];
    for (let i = 0; i < MESSAGES; i++) {
      const form = new FormData();
      form.set('metadata', JSON.stringify({ recipient: RECIPIENT.id, subject: `crash ${i}` }));
      form.append('payload', new Blob([`<Invoice n="${i}"/>`], { type: 'application/xml' }), `i${i}.xml`);
      ids.push(
        (await api<{ id: string }>(c2, SENDER.key, '/api/v1/messages', { method: 'POST', body: form })).id,
      );
    }
    const relayedAtC2 = async () =>
      Number(
        (
          await query<{ n: string }>(
            `select count(*) as n from ${schemas.c2}.evidence where event = 'RelayAcceptance'`,
          )
        )[0]!.n,
      );

    // Kill the worker while relays are under way.
    while ((await relayedAtC2()) < 3) await sleep(20);
    const atKill = await relayedAtC2();
    await killHard(worker);
    expect(
      atKill,
      'the worker was killed after every relay had finished: nothing was in flight',
    ).toBeLessThan(MESSAGES);

    // Redis dies too and comes back empty: whatever BullMQ held is gone; the outbox still knows.
    await redis.restart();
    expect(redis.cli('DBSIZE').trim()).toBe('0');
    worker = await qerds(['worker', '-c', c2File], /running stages/, logs.c2worker);

    const deadline = t0 + 160_000; // a liveness bound with room for a loaded 2-core CI machine (a quiet run prints its own time)
    let evidenceAtC2: Array<{ message_id: string; event: string; n: string }> = [];
    for (;;) {
      evidenceAtC2 = await query(
        `select message_id, event, count(*) as n from ${schemas.c2}.evidence group by message_id, event`,
      );
      if (evidenceAtC2.length === MESSAGES * CHAIN_AT_C2.length) break;
      if (Date.now() > deadline)
        throw new Error(
          `only ${evidenceAtC2.length}/${MESSAGES * CHAIN_AT_C2.length} evidence at C2 after 80 s (killed at ${atKill} relayed)\nC2 worker:\n${logs.c2worker.join('').slice(-3000)}`,
        );
      await sleep(200);
    }
    const recoveredMs = Date.now() - t0;
    await sleep(1500); // would a duplicate sneak in?

    // Exactly one evidence per (message, event), at both APs.
    const duplicates = (schema: string) =>
      query(
        `select message_id, event, count(*) as n from ${schema}.evidence group by message_id, event having count(*) <> 1`,
      );
    expect(await duplicates(schemas.c2)).toEqual([]);
    expect(await duplicates(schemas.c3)).toEqual([]);
    const chainOf = async (schema: string) => {
      const rows = await query<{ message_id: string; events: string }>(
        `select message_id, string_agg(event, ',' order by event) as events from ${schema}.evidence group by message_id`,
      );
      return new Map(rows.map((r) => [r.message_id, r.events]));
    };
    const c2Chains = await chainOf(schemas.c2);
    expect([...c2Chains.keys()].sort()).toEqual([...ids].sort());
    expect([...c2Chains.values()].every((events) => events === CHAIN_AT_C2.join(','))).toBe(true);
    const c3Chains = await chainOf(schemas.c3);
    expect(c3Chains.size).toBe(MESSAGES);
    expect([...c3Chains.values()].every((events) => events === CHAIN_AT_C3.join(','))).toBe(true);
    // Final states, each message once, and nothing left to do.
    expect(
      await query(`select state, count(*)::int as n from ${schemas.c2}.messages group by state`),
    ).toEqual([{ state: 'relayed', n: MESSAGES }]);
    expect(
      await query(`select state, count(*)::int as n from ${schemas.c3}.messages group by state`),
    ).toEqual([{ state: 'consigned', n: MESSAGES }]);
    expect(await query(`select count(*)::int as n from ${schemas.c2}.outbox`)).toEqual([{ n: 0 }]);
    expect(await query(`select count(*)::int as n from ${schemas.c3}.outbox`)).toEqual([{ n: 0 }]);

    // The API-only C2 process reports the whole AP's state from PostgreSQL, and Redis in /readyz.
    const metrics = await (await fetch(`${c2}/metrics`)).text();
    expect(metrics).toContain(`qerds_messages{state="relayed"} ${MESSAGES}`);
    expect(metrics).toContain(`qerds_evidence{event="ContentConsignment"} ${MESSAGES}`);
    expect(metrics).toContain('qerds_outbox_jobs{stage="relay"} 0');
    expect((await (await fetch(`${c2}/readyz`)).json()).checks).toEqual({
      store: 'ok',
      redis: 'ok',
      validationData: 'ok',
    });

    // Graceful shutdown: SIGTERM lets the worker finish and exit 0.
    const exit = new Promise<number | null>((done) => worker.once('exit', (code) => done(code)));
    worker.kill('SIGTERM');
    expect(await exit).toBe(0);
    expect(Date.now() - t0).toBeLessThan(170_000);
    console.log(
      `crash test: ${MESSAGES} messages, worker killed with ${atKill} relayed, Redis restarted empty; all final after ${recoveredMs} ms`,
    );
  }, 200_000);
});
