/**
 * `npm run soak` (opt-in, not part of `vitest run`): QERDS_SOAK_MESSAGES (default 10 000) messages of
 * 1 KiB through two APs on loopback, PostgreSQL + BullMQ, each AP an API-only process plus two
 * `qerds worker` processes. Bounded: start-up, submission and processing must end within
 * QERDS_SOAK_MAX_MS (default 10 minutes), and the verification of every evidence afterwards within
 * QERDS_SOAK_VERIFY_MAX_MS (default 10 minutes; it costs tens of ms per evidence), or the run fails.
 * Then:
 * - zero lost: every accepted submission is `relayed` at C2 with its whole chain (SubmissionAcceptance,
 *   RelayAcceptance, ContentConsignment) and `consigned` at C3; no outbox entry or dead letter is left;
 * - zero duplicated: one message per ebMS MessageId at C3, one evidence per (message, event) at both;
 * - every evidence chain verifies: each evidence's seal and timestamp (verifyEvidence, TOTAL-PASSED),
 *   its part digest against the payload sent, its ebMS MessageId, and its chain link (previous evidence
 *   in the same message's chain); C3's copies are byte-identical to what C2 holds.
 * Exit code 0 when all hold, 1 otherwise. Figures go to stdout, among them the CPU ms per message of each
 * role (from the first submission until the last ContentConsignment is back at C2): the measure of
 * throughput work, which unlike msg/s hardly depends on what else the shared machine is doing.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { api, RECIPIENT, SENDER } from '../../src/harness/two-access-points.js';
import { verifyEvidence } from '../../src/evidence/index.js';
import { devPkiLayout, initDevPki, loadTrustStore } from '../../src/pki/index.js';
import { startApCluster } from '../helpers/ap-cluster.js';
import { CpuWindow, pidsByRole } from '../helpers/process-cpu.js';

const messages = Number(process.env.QERDS_SOAK_MESSAGES ?? 10_000);
const maxMs = Number(process.env.QERDS_SOAK_MAX_MS ?? 600_000);
const submitters = Number(process.env.QERDS_SOAK_SUBMITTERS ?? 16);
const t0 = Date.now();
const verifyMaxMs = Number(process.env.QERDS_SOAK_VERIFY_MAX_MS ?? 600_000);
const deadline = t0 + maxMs;
let verifyDeadline = Number.POSITIVE_INFINITY;
const elapsed = () => ((Date.now() - t0) / 1000).toFixed(1);
const checkTime = (what: string) => {
  if (Date.now() > deadline) throw new Error(`soak exceeded ${maxMs / 1000} s during ${what}`);
};

/** Payload of message i: 1 KiB, distinct per message so that part digests tell messages apart. */
const payloadOf = (i: number) => Buffer.from(`soak message ${i} `.padEnd(1024, '.'));

const work = mkdtempSync(join(tmpdir(), 'qerds-soak-'));
const pkiDir = join(work, 'pki');
await initDevPki({ dir: pkiDir });
const trust = loadTrustStore([devPkiLayout(pkiDir).caCert, devPkiLayout(pkiDir).caCrl]);
console.log(
  `soak: ${messages} messages of 1 KiB, ${submitters} concurrent submitters, two APs × (API process + 2 workers), PostgreSQL + BullMQ, loopback; ${cpus().length} cores (${cpus()[0]?.model ?? '?'}), bound ${maxMs / 1000} s`,
);
const cluster = await startApCluster({
  kind: 'scale',
  workersPerAp: 2,
  work,
  pkiDir,
  concurrency: 4,
  pollIntervalMs: 50,
});
let failed = false;
try {
  console.log(`[${elapsed()} s] cluster up (C2 ${cluster.where.c2}, C3 ${cluster.where.c3})`);
  // Submission: every message accepted by C2 (HTTP 201) is one we must find at the end.
  const sent = new Map<string, number>();
  let next = 0;
  const submitter = async () => {
    while (next < messages) {
      const i = next++;
      checkTime('submission');
      const form = new FormData();
      form.set('metadata', JSON.stringify({ recipient: RECIPIENT.id, subject: `soak ${i}` }));
      form.append('payload', new Blob([payloadOf(i)], { type: 'application/octet-stream' }), `m${i}.bin`);
      const { id } = await api<{ id: string }>(cluster.c2Url, SENDER.key, '/api/v1/messages', {
        method: 'POST',
        body: form,
      });
      sent.set(id, i);
    }
  };
  // Idle cost first: polling, BullMQ's timers and Redis cost CPU per second, not per message, so a run
  // that a loaded machine stretches costs more per message. Both figures are printed.
  const idleSeconds = Number(process.env.QERDS_SOAK_IDLE_MS ?? 5000) / 1000;
  const idle = new CpuWindow(() => pidsByRole(cluster));
  await idle.start();
  await new Promise((r) => setTimeout(r, idleSeconds * 1000));
  const idleSpent = await idle.stop();
  const cpu = new CpuWindow(() => pidsByRole(cluster));
  await cpu.start();
  const driverCpu = process.cpuUsage();
  const submitStart = Date.now();
  await Promise.all(Array.from({ length: submitters }, submitter));
  const submitSeconds = (Date.now() - submitStart) / 1000;
  console.log(
    `[${elapsed()} s] ${sent.size} submitted in ${submitSeconds.toFixed(1)} s (${(sent.size / submitSeconds).toFixed(1)}/s)`,
  );

  // Wait until C2 holds the whole chain of every message and both outboxes are empty.
  const count = async (ap: 'c2' | 'c3', sql: string) =>
    Number((await cluster.sql<{ n: string | number }>(ap, sql))[0]!.n);
  for (;;) {
    const consigned = await count(
      'c2',
      `select count(*) as n from {schema}.evidence where event = 'ContentConsignment'`,
    );
    const pending =
      (await count('c2', 'select count(*) as n from {schema}.outbox')) +
      (await count('c3', 'select count(*) as n from {schema}.outbox'));
    if (consigned >= messages && pending === 0) break;
    if (Date.now() > deadline)
      throw new Error(
        `soak exceeded ${maxMs / 1000} s: ${consigned}/${messages} ContentConsignment at C2, ${pending} outbox entries left\n${cluster.output()}`,
      );
    await new Promise((r) => setTimeout(r, 500));
  }
  const flowSeconds = (Date.now() - submitStart) / 1000;
  printCpu(await cpu.stop(), process.cpuUsage(driverCpu), flowSeconds, idleSpent, idleSeconds);
  console.log(
    `[${elapsed()} s] all ${messages} consigned and returned to C2 after ${flowSeconds.toFixed(1)} s: ${(messages / flowSeconds).toFixed(1)} messages/s end to end (load average ${loadavg()
      .map((l) => l.toFixed(1))
      .join(' ')})`,
  );

  // Zero lost, zero duplicated.
  const c2Messages = await cluster.sql<{ id: string; ebms_message_id: string; state: string }>(
    'c2',
    'select id, ebms_message_id, state from {schema}.messages',
  );
  assert.equal(c2Messages.length, messages, 'messages at C2');
  assert.deepEqual(
    new Set(c2Messages.map((m) => m.id)),
    new Set(sent.keys()),
    'C2 holds exactly the accepted submissions',
  );
  assert.ok(
    c2Messages.every((m) => m.state === 'relayed'),
    'every message relayed at C2',
  );
  const c3Messages = await cluster.sql<{ id: string; ebms_message_id: string; state: string }>(
    'c3',
    'select id, ebms_message_id, state from {schema}.messages',
  );
  assert.equal(c3Messages.length, messages, 'messages at C3 (none lost, none duplicated)');
  assert.deepEqual(
    new Set(c3Messages.map((m) => m.ebms_message_id)),
    new Set(c2Messages.map((m) => m.ebms_message_id)),
    'C3 holds one message per ebMS MessageId sent',
  );
  assert.ok(
    c3Messages.every((m) => m.state === 'consigned'),
    'every message consigned at C3',
  );
  for (const ap of ['c2', 'c3'] as const) {
    const dup = await cluster.sql(
      ap,
      'select message_id, event, count(*) as n from {schema}.evidence group by message_id, event having count(*) <> 1',
    );
    assert.deepEqual(dup, [], `one evidence per (message, event) at ${ap}`);
    assert.equal(
      await count(ap, 'select count(*) as n from {schema}.outbox'),
      0,
      `outbox empty at ${ap} (no dead letters either)`,
    );
  }
  assert.equal(
    await count('c2', 'select count(*) as n from {schema}.evidence'),
    3 * messages,
    'three evidence per message at C2',
  );
  assert.equal(
    await count('c3', 'select count(*) as n from {schema}.evidence'),
    2 * messages,
    'two evidence per message at C3',
  );
  console.log(`[${elapsed()} s] zero lost, zero duplicated`);

  // Every evidence chain verifies.
  const ebmsOf = new Map(c2Messages.map((m) => [m.id, m.ebms_message_id]));
  const c3Xml = new Map(
    (await cluster.sql<{ id: string; xml: string }>('c3', 'select id, xml from {schema}.evidence')).map(
      (e) => [e.id, e.xml],
    ),
  );
  const verifyStart = Date.now();
  verifyDeadline = verifyStart + verifyMaxMs;
  let verified = 0;
  const ids = [...sent.keys()];
  const verifier = async () => {
    for (let id = ids.pop(); id !== undefined; id = ids.pop()) {
      if (Date.now() > verifyDeadline)
        throw new Error(`verification exceeded ${verifyMaxMs / 1000} s after ${verified} evidence`);
      const chain = await cluster.sql<{ id: string; event: string; xml: string }>(
        'c2',
        `select id, event, xml from {schema}.evidence where message_id = '${id}' order by sequence`,
      );
      assert.deepEqual(
        chain.map((e) => e.event).sort(),
        ['ContentConsignment', 'RelayAcceptance', 'SubmissionAcceptance'],
        `chain of ${id}`,
      );
      const inChain = new Set(chain.map((e) => e.id));
      for (const evidence of chain) {
        const report = await verifyEvidence(evidence.xml, {
          trust,
          content: payloadOf(sent.get(id)!),
          requireTimestamp: true,
        });
        assert.equal(
          report.indication,
          'TOTAL-PASSED',
          `evidence ${evidence.id} (${evidence.event}) of ${id}: ${report.findings.map((f) => f.message).join('; ')}`,
        );
        assert.equal(report.evidence?.id, evidence.id);
        assert.equal(report.evidence?.event, evidence.event);
        assert.equal(
          report.evidence?.messageId,
          ebmsOf.get(id),
          `evidence ${evidence.id} is about ebMS message ${ebmsOf.get(id)}`,
        );
        const previous = report.evidence?.previousEvidenceId;
        if (previous !== undefined)
          assert.ok(
            inChain.has(previous),
            `evidence ${evidence.id} links to ${previous}, in the chain of ${id}`,
          );
        if (evidence.event !== 'SubmissionAcceptance')
          assert.equal(c3Xml.get(evidence.id), evidence.xml, `C3's copy of ${evidence.id} is byte-identical`);
        verified++;
      }
    }
  };
  await Promise.all(Array.from({ length: 4 }, verifier));
  const verifySeconds = (Date.now() - verifyStart) / 1000;
  console.log(
    `[${elapsed()} s] ${verified} evidence verified (seal, timestamp, content digest, ebMS id, chain link) in ${verifySeconds.toFixed(1)} s`,
  );
  console.log(
    `soak PASSED: ${messages} messages; traffic within ${maxMs / 1000} s, verification ${verifySeconds.toFixed(1)} s (bound ${verifyMaxMs / 1000} s); total ${elapsed()} s`,
  );
} catch (error) {
  failed = true;
  console.error(`soak FAILED after ${elapsed()} s: ${(error as Error).stack ?? String(error)}`);
} finally {
  await cluster.stop();
  rmSync(work, { recursive: true, force: true });
}
process.exit(failed ? 1 : 0);

function printCpu(
  spent: Map<string, number>,
  driver: NodeJS.CpuUsage,
  seconds: number,
  idleSpent: Map<string, number>,
  idleSeconds: number,
) {
  const sum = (roles: readonly string[], of: Map<string, number>) =>
    roles.reduce((total, role) => total + (of.get(role) ?? 0), 0);
  const apRoles = [...spent.keys()].filter((role) => /^c[23] /.test(role)).sort();
  const services = [...spent.keys()].filter((role) => !apRoles.includes(role));
  const idleRate = (roles: readonly string[]) => sum(roles, idleSpent) / idleSeconds;
  /** CPU ms per message, and the same without what the processes spend idle for as long as the run took. */
  const row = (roles: readonly string[], label: string) => {
    const ms = sum(roles, spent);
    const net = ms - idleRate(roles) * seconds;
    console.log(
      `  ${(ms / messages).toFixed(1).padStart(7)} ${(net / messages).toFixed(1).padStart(7)} ${idleRate(roles).toFixed(0).padStart(6)}  ${label}`,
    );
  };
  console.log(
    `CPU per message (first submission → last ContentConsignment at C2, ${seconds.toFixed(1)} s; idle cost measured over ${idleSeconds} s before):`,
  );
  console.log('   ms/msg     net idle ms/s');
  for (const role of apRoles) row([role], role);
  row(apRoles, 'AP processes total');
  for (const role of services) row([role], role);
  row(
    [...spent.keys()],
    `total (AP processes + PostgreSQL backends + Redis); ${(sum([...spent.keys()], spent) / 1000 / seconds).toFixed(2)} cores busy on average`,
  );
  console.log(
    `  ${((driver.user + driver.system) / 1000 / messages).toFixed(1).padStart(7)}  soak driver (submitting, polling; not counted above)`,
  );
}
