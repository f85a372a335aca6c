import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { api, RECIPIENT, SENDER } from '../../src/harness/two-access-points.js';
import { startApCluster, type ApCluster } from '../helpers/ap-cluster.js';
import { devTestPki } from '../helpers/pki.js';
import { waitFor } from '../helpers/wait.js';

/**
 * Crash tests at the recipient's side and at the database, with real processes (test/helpers/ap-cluster.ts,
 * scale kind: per AP an API-only `qerds start --no-workers` plus one `qerds worker`, PostgreSQL schema per
 * AP, BullMQ on Redis):
 * - the C3 worker is killed with SIGKILL while deliver and notify jobs are in flight, then restarted;
 * - every PostgreSQL session of both APs is terminated by the server (pg_terminate_backend), repeatedly,
 *   while messages move through the stages.
 * In both, every message must reach its final state at both APs, with exactly one evidence per event,
 * nothing left in either outbox (no dead letters), and no AP process may die of it.
 */
const postgresUrl = process.env.QERDS_TEST_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const MESSAGES = 24;
const CHAIN_AT_C2 = ['ContentConsignment', 'RelayAcceptance', 'SubmissionAcceptance'];
const CHAIN_AT_C3 = ['ContentConsignment', 'RelayAcceptance'];
const PROCESSES = ['c2 api', 'c3 api', 'c2 worker 1', 'c3 worker 1'];

const work = mkdtempSync(join(tmpdir(), 'qerds-crash-stages-'));
const pkiDir = join(work, 'pki');
const clusters: ApCluster[] = [];
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

beforeAll(async () => {
  await devTestPki(pkiDir);
});

afterAll(async () => {
  for (const cluster of clusters) await cluster.stop();
  rmSync(work, { recursive: true, force: true });
});

/** Short leases, locks and stalled checks: a job lost with a process or a connection comes back within seconds. */
async function cluster(): Promise<ApCluster> {
  const started = await startApCluster({
    kind: 'scale',
    work,
    pkiDir,
    workersPerAp: 1,
    concurrency: 2,
    pollIntervalMs: 50,
    leaseMs: 3000,
    stalledIntervalMs: 1000,
    // A killed worker's jobs stay active in BullMQ until their lock runs out (120 s by default); short here,
    // so that they run again (and, their outbox lease gone, do nothing) before the test looks for duplicates.
    lockDurationMs: 10_000,
  });
  clusters.push(started);
  return started;
}

async function submitAll(c: ApCluster, label: string): Promise<string[]> {
  const ids: string[] = [];
  for (let i = 0; i < MESSAGES; i++) {
    const form = new FormData();
    form.set('metadata', JSON.stringify({ recipient: RECIPIENT.id, subject: `${label} ${i}` }));
    form.append('payload', new Blob([`<Invoice n="${i}"/>`], { type: 'application/xml' }), `i${i}.xml`);
    ids.push(
      (await api<{ id: string }>(c.c2Url, SENDER.key, '/api/v1/messages', { method: 'POST', body: form })).id,
    );
  }
  return ids;
}

const count = async (c: ApCluster, ap: 'c2' | 'c3', where: string) =>
  Number((await c.sql<{ n: string }>(ap, `select count(*) as n from {schema}.${where}`))[0]!.n);

/** Waits until both APs hold every evidence of every message and both outboxes are empty. */
async function waitUntilFinal(c: ApCluster, deadline: number, what: () => string): Promise<void> {
  for (;;) {
    const [c2Evidence, c3Evidence, c2Outbox, c3Outbox] = await Promise.all([
      c.sql<{ n: string }>(
        'c2',
        'select count(*) as n from (select distinct message_id, event from {schema}.evidence) e',
      ),
      c.sql<{ n: string }>(
        'c3',
        'select count(*) as n from (select distinct message_id, event from {schema}.evidence) e',
      ),
      count(c, 'c2', 'outbox'),
      count(c, 'c3', 'outbox'),
    ]);
    const done =
      Number(c2Evidence[0]!.n) === MESSAGES * CHAIN_AT_C2.length &&
      Number(c3Evidence[0]!.n) === MESSAGES * CHAIN_AT_C3.length &&
      c2Outbox === 0 &&
      c3Outbox === 0;
    if (done) return;
    if (Date.now() > deadline) {
      throw new Error(
        `not final in time: ${c2Evidence[0]!.n}/${MESSAGES * 3} (message, event) at C2, ${c3Evidence[0]!.n}/${MESSAGES * 2} at C3, outbox ${c2Outbox}/${c3Outbox}; ${what()}\n${c.output()}`,
      );
    }
    await sleep(200);
  }
}

/** Exactly one evidence per (message, event), the full chain per message, final states, empty outboxes. */
async function expectExactlyOnce(c: ApCluster, ids: string[]): Promise<void> {
  // Could a late duplicate still come? Only from a job BullMQ may yet run (a stale lease's job does nothing):
  // wait until no pipeline job of either AP is waiting, active, delayed or prioritized.
  await waitFor(async () => ((await c.pendingJobs()) === 0 ? true : undefined), {
    timeoutMs: 60_000,
    what: 'no BullMQ job left to run at C2 or C3',
  });
  const duplicates = (ap: 'c2' | 'c3') =>
    c.sql(
      ap,
      'select message_id, event, count(*) as n from {schema}.evidence group by message_id, event having count(*) <> 1',
    );
  expect(await duplicates('c2')).toEqual([]);
  expect(await duplicates('c3')).toEqual([]);
  const chains = async (ap: 'c2' | 'c3') => {
    const rows = await c.sql<{ message_id: string; events: string }>(
      ap,
      "select message_id, string_agg(event, ',' order by event) as events from {schema}.evidence group by message_id",
    );
    return new Map(rows.map((r) => [r.message_id, r.events]));
  };
  const c2Chains = await chains('c2');
  expect([...c2Chains.keys()].sort()).toEqual([...ids].sort());
  expect(new Set(c2Chains.values())).toEqual(new Set([CHAIN_AT_C2.join(',')]));
  const c3Chains = await chains('c3');
  expect(c3Chains.size).toBe(MESSAGES);
  expect(new Set(c3Chains.values())).toEqual(new Set([CHAIN_AT_C3.join(',')]));
  // Each message once at each AP (C3 keys its own ids; the ebMS message id ties the two together).
  expect(await c.sql('c2', 'select state, count(*)::int as n from {schema}.messages group by state')).toEqual(
    [{ state: 'relayed', n: MESSAGES }],
  );
  expect(await c.sql('c3', 'select state, count(*)::int as n from {schema}.messages group by state')).toEqual(
    [{ state: 'consigned', n: MESSAGES }],
  );
  const ebms = async (ap: 'c2' | 'c3') =>
    (await c.sql<{ ebms_message_id: string }>(ap, 'select ebms_message_id from {schema}.messages'))
      .map((r) => r.ebms_message_id)
      .sort();
  expect(await ebms('c3')).toEqual(await ebms('c2'));
  expect(await count(c, 'c2', 'outbox')).toBe(0);
  expect(await count(c, 'c3', 'outbox')).toBe(0);
}

describe('crash recovery at C3 and at the database (real processes, PostgreSQL + BullMQ)', () => {
  it('kill -9 of the C3 worker with deliver and notify jobs in flight: every message consigned once, its ContentConsignment returned to C2 once', async () => {
    const t0 = Date.now();
    const c = await cluster();
    // Submissions go on while the worker dies: deliver jobs keep arriving at C3 with no one to run them.
    const submitted = submitAll(c, 'c3 crash');
    submitted.catch(() => undefined); // awaited below; a failure must not go unhandled meanwhile

    // In flight at C3: deliver and notify jobs leased (handed to the worker, not yet settled) at once.
    const atC3 = async () => ({
      consigned: await count(c, 'c3', "evidence where event = 'ContentConsignment'"),
      deliver: await count(c, 'c3', "outbox where stage = 'deliver' and leased_until is not null"),
      notify: await count(c, 'c3', "outbox where stage = 'notify' and leased_until is not null"),
    });
    const watchUntil = Date.now() + 45_000;
    let state = await atC3();
    while (!(state.consigned >= 2 && state.deliver > 0 && state.notify > 0)) {
      if (Date.now() > watchUntil)
        throw new Error(
          `C3 never had deliver and notify work at once: ${JSON.stringify(state)}\n${c.output()}`,
        );
      await sleep(20);
      state = await atC3();
    }
    await c.kill('c3 worker 1');
    const beforeKill = state;
    const atKill = {
      ...(await atC3()),
      submitted: await count(c, 'c2', 'messages'),
      returnedToC2: await count(c, 'c2', "evidence where event = 'ContentConsignment'"),
    };
    expect(
      atKill.consigned,
      'every message was consigned before the kill: no deliver job was in flight',
    ).toBeLessThan(MESSAGES);
    expect(atKill.deliver + atKill.notify, 'the C3 outbox was empty at the kill').toBeGreaterThan(0);
    expect(atKill.returnedToC2, 'every ContentConsignment was back at C2 before the kill').toBeLessThan(
      MESSAGES,
    );
    const killedMs = Date.now() - t0;

    // Nothing moves at C3 without its worker (the API process only receives and dispatches): once every
    // message is submitted, C3 holds work that is due (received after the kill, or its lease by the killed
    // worker run out) and none of it is done.
    const ids = await submitted;
    const due = () =>
      count(
        c,
        'c3',
        `outbox where stage in ('deliver', 'notify') and (leased_until is null or leased_until < '${new Date().toISOString()}')`,
      );
    await waitFor(async () => ((await due()) > 0 ? true : undefined), {
      timeoutMs: 60_000,
      what: 'due work at C3 while its worker is dead',
    });
    expect(await count(c, 'c3', "evidence where event = 'ContentConsignment'")).toBe(atKill.consigned);
    const submittedMs = Date.now() - t0;
    await c.restart('c3 worker 1');
    const restartedMs = Date.now() - t0;

    await waitUntilFinal(c, t0 + 150_000, () => `killed at ${JSON.stringify(atKill)}`);
    const finalMs = Date.now() - t0;
    await expectExactlyOnce(c, ids);
    expect(c.running().sort()).toEqual([...PROCESSES].sort());
    expect(Date.now() - t0).toBeLessThan(170_000);
    console.log(
      `crash-stages C3 worker: ${MESSAGES} messages submitted in ${submittedMs} ms; killed at ${killedMs} ms with ${atKill.submitted} submitted, ${atKill.consigned} consigned, ` +
        `${beforeKill.deliver} deliver + ${beforeKill.notify} notify jobs leased just before (${atKill.deliver} + ${atKill.notify} just after), ${atKill.returnedToC2} returned to C2; worker back at ${restartedMs} ms; all final after ${finalMs} ms`,
    );
  }, 180_000);

  it('PostgreSQL sessions of both APs terminated mid-run, repeatedly: jobs retry, every message ends once, nothing lost', async () => {
    const t0 = Date.now();
    const c = await cluster();
    const admin = new pg.Client({ connectionString: postgresUrl, application_name: 'qerds-test-admin' });
    await admin.connect();
    try {
      // All the work lies ahead of the drops: both workers are paused (SIGSTOP) while the messages are
      // submitted, so however slow the submissions are on a busy machine, the stages have not begun.
      const workers = ['c2 worker 1', 'c3 worker 1'].map((label) => c.pid(label)!);
      for (const pid of workers) process.kill(pid, 'SIGSTOP');
      let ids: string[];
      try {
        ids = await submitAll(c, 'pg drop');
      } finally {
        for (const pid of workers) process.kill(pid, 'SIGCONT');
      }
      const submittedMs = Date.now() - t0;
      // Only this cluster's sessions: the store names them `qerds-ap:<schema>` (other tests share the server).
      const names = [`qerds-ap:${c.where.c2}`, `qerds-ap:${c.where.c3}`];
      const terminate = async () => {
        const rows = await admin.query<{ state: string | null; terminated: boolean }>(
          'select state, pg_terminate_backend(pid) as terminated from pg_stat_activity where datname = current_database() and pid <> pg_backend_pid() and application_name = any($1)',
          [names],
        );
        return { sessions: rows.rowCount ?? 0, busy: rows.rows.filter((r) => r.state !== 'idle').length };
      };

      // A round of drops, then the next once the pipeline has moved on (more evidence at either AP), while
      // work is left, at most 12 rounds: the drops land in every stage of both APs, paced by the work and
      // not by the clock.
      const rounds: Array<{ at: number; sessions: number; busy: number }> = [];
      const unfinished = async () => (await count(c, 'c2', 'outbox')) + (await count(c, 'c3', 'outbox'));
      const progress = async () => (await count(c, 'c2', 'evidence')) + (await count(c, 'c3', 'evidence'));
      while (rounds.length < 12 && (await unfinished()) > 0) {
        const before = await progress();
        rounds.push({ at: Date.now() - t0, ...(await terminate()) });
        await waitFor(
          async () => ((await progress()) > before || (await unfinished()) === 0 ? true : undefined),
          { timeoutMs: 120_000, what: 'the pipeline moving on after a round of drops' },
        );
      }
      const sessions = rounds.reduce((n, r) => n + r.sessions, 0);
      const busy = rounds.reduce((n, r) => n + r.busy, 0);
      expect(rounds.length, 'the run finished before the first drop').toBeGreaterThanOrEqual(3);
      expect(sessions, 'no session of the APs was terminated').toBeGreaterThan(0);

      await waitUntilFinal(c, t0 + 150_000, () => `drops: ${JSON.stringify(rounds)}`);
      const finalMs = Date.now() - t0;
      await expectExactlyOnce(c, ids);
      // A dropped connection is an error to retry, not a reason for an AP process to die.
      expect(c.running().sort()).toEqual([...PROCESSES].sort());
      // And the APs use the database again afterwards (the pools replaced the dropped connections).
      expect((await (await fetch(`${c.c2Url}/readyz`)).json()).checks).toMatchObject({ store: 'ok' });
      expect(Date.now() - t0).toBeLessThan(170_000);
      console.log(
        `crash-stages PostgreSQL: ${MESSAGES} messages submitted in ${submittedMs} ms; ${rounds.length} drop rounds terminated ${sessions} sessions (${busy} not idle); all final after ${finalMs} ms`,
      );
    } finally {
      await admin.end();
    }
  }, 180_000);
});
