import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createSqliteStore } from '../src/store/index.js';
import { countSqlStatements } from './sql-counter.js';

/**
 * The store's share of a message without XML or crypto: what the pipeline asks of the SQLite store for one message
 * on the demo path, in a loop. A round: a payload blob, the message (with its blob's row) with its first evidence and
 * an outbox entry in one transaction, the job leased, an empty poll, three reads, the job's step: a transition with a
 * second evidence (chain-checked) and the job's completion in one transaction, a state update, two evidence reads.
 * Prints process CPU per round (user and system apart: system time is mostly the WAL's writes and fsyncs, user time
 * the query layer), and the statements and commits of a round.
 */
export async function benchStore(): Promise<void> {
  const rounds = Number(process.env.BENCH_ROUNDS ?? 1000);
  const warmUp = 200;
  const dir = mkdtempSync(join(tmpdir(), 'qerds-bench-store-'));
  const store = createSqliteStore({ file: join(dir, 'store.sqlite'), blobDir: join(dir, 'blobs') });
  await store.migrate();
  console.log(
    `settings: ${rounds} rounds after ${warmUp} warm-up, SQLite (WAL, synchronous FULL) on ${tmpdir()}`,
  );
  const xml = `<Evidence>${'x'.repeat(8000)}</Evidence>`;
  let n = 0;
  const round = async () => {
    n++;
    const id = `m-${n}`;
    const blob = await store.blobs.put(Buffer.from(`payload ${n} ${'y'.repeat(1000)}`));
    await store.transaction(async (tx) => {
      await tx.insertMessage({
        id,
        ebmsMessageId: `e-${n}@bench`,
        role: 'sender-ap',
        state: 'submitted',
        sender: { scheme: '0188', value: '1' },
        recipient: { scheme: 'email', value: 'b@example.org' },
        parts: [{ partId: 'p', contentType: 'application/pdf', sha256: blob.sha256, size: blob.size }],
        submittedAt: new Date(),
      });
      const evidence = { messageId: id, eventTime: new Date(), xml, issuedBy: 'ap' };
      await tx.insertEvidence(
        { ...evidence, id: `a-${n}`, event: 'SubmissionAcceptance' },
        { previousId: null },
      );
      await tx.enqueue('relay', id, { n });
    });
    const jobs = await store.leaseOutbox(8, 30_000, new Date(Date.now() + 1000));
    await store.leaseOutbox(8, 30_000, new Date());
    await store.getMessage(id);
    await store.getMessage(id);
    await store.findMessageByEbmsId(`e-${n}@bench`, 'sender-ap');
    await store.transaction(async (tx) => {
      await tx.transitionMessage(id, 'submitted', 'relaying');
      await tx.insertEvidence(
        { id: `r-${n}`, messageId: id, event: 'RelayAcceptance', eventTime: new Date(), xml, issuedBy: 'ap' },
        { previousId: `a-${n}` },
      );
      for (const job of jobs) await tx.completeOutbox(job.id, job.leaseToken);
    });
    await store.transitionMessage(id, 'relaying', 'relayed', { attempts: 1 });
    await store.getEvidence(`r-${n}`);
    await store.listEvidence(id);
  };
  try {
    for (let i = 0; i < warmUp; i++) await round();
    const sql = countSqlStatements();
    const cpu0 = process.cpuUsage();
    const t0 = performance.now();
    for (let i = 0; i < rounds; i++) await round();
    const cpu = process.cpuUsage(cpu0);
    sql.stop();
    const counts = sql.counts();
    const per = (k: number) => (k / rounds).toFixed(1);
    console.log(
      `sql: ${per(counts.statements)} statements, ${per(counts.commits + counts.autocommitWrites)} commits (${per(counts.commits)} transactions + ${per(counts.autocommitWrites)} autocommit writes) per round`,
    );
    const ms = (us: number) => (us / 1000 / rounds).toFixed(3);
    console.log(
      `cpu: ${ms(cpu.user + cpu.system)} ms per round (user ${ms(cpu.user)} + system ${ms(cpu.system)}); wall ${((performance.now() - t0) / rounds).toFixed(2)} ms per round`,
    );
  } finally {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  }
}
