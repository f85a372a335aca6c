import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { Queue as BullQueue } from 'bullmq';
import pg from 'pg';
import { stringify as toYaml } from 'yaml';
import { RECIPIENT, SENDER } from '../../src/harness/two-access-points.js';
import { devPkiLayout } from '../../src/pki/layout.js';
import { devApId } from '../../src/pki/dev-ap-id.js';
import { queueName } from '../../src/pipeline/bullmq-queue.js';
import { pipelineStages } from '../../src/store/types.js';
import { claimPort } from './ports.js';

/**
 * Two access points (C2 for SENDER, C3 for RECIPIENT) as real `qerds` processes on loopback, for the
 * scale benchmark and the soak test:
 * - `embedded`: one `qerds start` per AP, SQLite and the in-process queue (the out-of-the-box setup);
 * - `scale`: per AP one API-only `qerds start --no-workers` plus `workersPerAp` `qerds worker`
 *   processes, PostgreSQL (one schema per AP) and BullMQ (one key prefix per AP).
 * The caller's process only submits and observes (read-only SQL on the APs' stores).
 */
export interface ApClusterOptions {
  readonly kind: 'embedded' | 'scale';
  /** Worker processes per AP (scale only). @defaultValue 1 */
  readonly workersPerAp?: number;
  /** Scratch directory (configs, SQLite files, blobs). */
  readonly work: string;
  /** Dev PKI directory (initDevPki). */
  readonly pkiDir: string;
  /** Jobs per stage run at once in each process (queue.concurrency). @defaultValue 4 */
  readonly concurrency?: number;
  /** @defaultValue 20 */
  readonly pollIntervalMs?: number;
  /** @defaultValue 'postgres://postgres@127.0.0.1:5432/test' */
  readonly postgresUrl?: string;
  /** @defaultValue 'redis://127.0.0.1:6379' */
  readonly redisUrl?: string;
  /** pino level of the processes. @defaultValue 'warn' */
  readonly logLevel?: string;
  /**
   * queue.leaseMs and queue.stalledIntervalMs of the scale kind (crash tests shorten them, so that a job
   * lost with a killed process comes back within seconds). @defaultValue the config defaults; stalled 5000
   */
  readonly leaseMs?: number;
  readonly stalledIntervalMs?: number;
  /** BullMQ job lock (queue.lockDurationMs): how long a killed worker's jobs stay active. @defaultValue the config's */
  readonly lockDurationMs?: number;
  /** Config sections merged into each AP's (key by key within a section), e.g. `{ limits: { maxPayloadBytes } }`. @defaultValue none */
  readonly configOverrides?: Readonly<Record<string, Readonly<Record<string, unknown>>>>;
}

export interface ApCluster {
  readonly c2Url: string;
  readonly c3Url: string;
  /** PostgreSQL schemas (scale) or SQLite files (embedded) of C2 and C3. */
  readonly where: { readonly c2: string; readonly c3: string };
  /** Worker processes of each AP (0 for embedded: its one process runs the stages). */
  readonly workersPerAp: number;
  /** Read-only SQL on an AP's store (plain SQL common to SQLite and PostgreSQL, no parameters). */
  sql<T>(ap: 'c2' | 'c3', query: string): Promise<T[]>;
  /** The last lines each process wrote (for failure reports). */
  output(): string;
  /** Labels of the running processes: `c2 api`, `c3 api`, `c2 worker 1`, … (`c2`, `c3` when embedded). */
  running(): string[];
  /** kill -9 the process `label`; resolves once it exited. */
  kill(label: string): Promise<void>;
  /** The OS process id of the running process `label` (e.g. to read its /proc/<pid>/status). */
  pid(label: string): number | undefined;
  /** Starts the process `label` again (same command); resolves once it is ready. */
  restart(label: string): Promise<void>;
  /**
   * Pipeline jobs of both APs that BullMQ may still run: waiting, active (a killed worker's too, until the
   * stalled check hands them out again), delayed or prioritized. 0 when embedded (no BullMQ).
   */
  pendingJobs(): Promise<number>;
  /** Stops every process (SIGTERM, then SIGKILL), drops the schemas and Redis keys. */
  stop(): Promise<void>;
}

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

/**
 * QERDS_CLUSTER_NODE_ARGS: extra node options for every AP process, space-separated, e.g.
 * `--cpu-prof --cpu-prof-dir=/tmp/prof` to profile a soak (NODE_OPTIONS refuses --cpu-prof; a process
 * writes its profile when it exits after SIGTERM).
 */
const nodeArgs = (process.env.QERDS_CLUSTER_NODE_ARGS ?? '').split(' ').filter(Boolean);

export async function startApCluster(options: ApClusterOptions): Promise<ApCluster> {
  const postgresUrl = options.postgresUrl ?? 'postgres://postgres@127.0.0.1:5432/test';
  const redisUrl = options.redisUrl ?? 'redis://127.0.0.1:6379';
  const workersPerAp = options.kind === 'scale' ? (options.workersPerAp ?? 1) : 0;
  const run = randomBytes(4).toString('hex');
  const children = new Set<ChildProcess>();
  const outputs = new Map<string, string[]>();
  const byLabel = new Map<string, ChildProcess>();
  const commands = new Map<string, { args: string[]; ready: RegExp }>();
  const [c2Port, c3Port] = await Promise.all([claimPort(), claimPort()]);
  // Each AP's AS4 encryption certificate (dev PKI) in the directory: the peer encrypts AS4 payloads for it.
  const participants = [
    {
      id: SENDER.id,
      name: SENDER.name,
      endpoint: `http://127.0.0.1:${c2Port}/as4`,
      apEncryptionCertificate: devPkiLayout(options.pkiDir).ap('c2').encCert,
      apCertificate: devPkiLayout(options.pkiDir).ap('c2').sealCert,
    },
    {
      id: RECIPIENT.id,
      name: RECIPIENT.name,
      endpoint: `http://127.0.0.1:${c3Port}/as4`,
      apEncryptionCertificate: devPkiLayout(options.pkiDir).ap('c3').encCert,
      apCertificate: devPkiLayout(options.pkiDir).ap('c3').sealCert,
    },
  ];
  const schemas = { c2: `qerds_cluster_${run}_c2`, c3: `qerds_cluster_${run}_c3` };
  const sqliteFiles = {
    c2: join(options.work, run, 'c2', 'qerds.sqlite'),
    c3: join(options.work, run, 'c3', 'qerds.sqlite'),
  };
  const prefixes = { c2: `cluster-${run}-c2`, c3: `cluster-${run}-c3` };

  const configFile = (name: 'c2' | 'c3', port: number, account: typeof SENDER) => {
    const file = join(options.work, run, `${name}.yaml`);
    mkdirSync(dirname(file), { recursive: true });
    const store =
      options.kind === 'scale'
        ? {
            kind: 'postgres',
            postgresUrl,
            postgresSchema: schemas[name],
            blobDir: join(options.work, run, name, 'blobs'),
          }
        : { kind: 'sqlite', sqliteFile: sqliteFiles[name], blobDir: join(options.work, run, name, 'blobs') };
    const queue =
      options.kind === 'scale'
        ? {
            kind: 'bullmq',
            redisUrl,
            prefix: prefixes[name],
            stalledIntervalMs: options.stalledIntervalMs ?? 5000,
            ...(options.leaseMs ? { leaseMs: options.leaseMs } : {}),
            ...(options.lockDurationMs ? { lockDurationMs: options.lockDurationMs } : {}),
          }
        : { kind: 'in-process' };
    const config: Record<string, unknown> = {
      ap: { name: `cluster ${name}`, id: devApId(name) },
      http: { port },
      store,
      queue: {
        ...queue,
        concurrency: options.concurrency ?? 4,
        pollIntervalMs: options.pollIntervalMs ?? 20,
      },
      relay: { baseDelayMs: 200, maxDelayMs: 2000, maxAttempts: 20 },
      pki: { dir: options.pkiDir, apName: name },
      directory: { participants },
      apiKeys: [{ key: account.key, participant: account.id, name: account.name }],
      log: { level: options.logLevel ?? 'warn' },
    };
    for (const [section, values] of Object.entries(options.configOverrides ?? {}))
      config[section] = { ...(config[section] as object | undefined), ...values };
    writeFileSync(file, toYaml(config));
    return file;
  };

  /** Starts `qerds <args>`; resolves once it printed a line matching `ready`. */
  const qerds = (label: string, args: string[], ready: RegExp): Promise<ChildProcess> => {
    commands.set(label, { args, ready });
    const output = outputs.get(label) ?? [];
    outputs.set(label, output);
    const child = spawn(process.execPath, [...nodeArgs, join(root, 'bin/qerds.js'), ...args], {
      cwd: options.work,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    children.add(child);
    byLabel.set(label, child);
    child.once('exit', () => {
      children.delete(child);
      if (byLabel.get(label) === child) byLabel.delete(label);
    });
    const keep = (chunk: Buffer) => {
      output.push(chunk.toString());
      if (output.length > 200) output.splice(0, output.length - 200);
    };
    return new Promise((started, reject) => {
      // QERDS_CLUSTER_START_MS: a machine shared with other work may need a minute or more to start a process.
      const startMs = Number(process.env.QERDS_CLUSTER_START_MS ?? 120_000);
      const timer = setTimeout(
        () => reject(new Error(`${label} did not start in ${startMs / 1000} s:\n${output.join('')}`)),
        startMs,
      );
      let seen = '';
      child.stdout!.on('data', (chunk: Buffer) => {
        keep(chunk);
        seen += chunk.toString();
        if (ready.test(seen)) {
          clearTimeout(timer);
          started(child);
        }
      });
      child.stderr!.on('data', keep);
      child.once('exit', (code) => {
        clearTimeout(timer);
        reject(new Error(`${label} exited with ${code}:\n${output.join('')}`));
      });
    });
  };

  const c2File = configFile('c2', c2Port, SENDER);
  const c3File = configFile('c3', c3Port, RECIPIENT);
  const pool = options.kind === 'scale' ? new pg.Pool({ connectionString: postgresUrl, max: 2 }) : undefined;
  const sqlite: Partial<Record<'c2' | 'c3', Database.Database>> = {};

  const stop = async () => {
    await Promise.all(
      [...children].map(
        (child) =>
          new Promise<void>((done) => {
            const kill = setTimeout(() => child.kill('SIGKILL'), 10_000);
            child.once('exit', () => {
              clearTimeout(kill);
              done();
            });
            child.kill('SIGTERM');
          }),
      ),
    );
    for (const db of Object.values(sqlite)) db?.close();
    if (pool) {
      for (const schema of Object.values(schemas))
        await pool.query(`drop schema if exists ${schema} cascade`);
      await pool.end();
      const redis = new URL(redisUrl);
      const cli = (...args: string[]) =>
        execFileSync('redis-cli', ['-h', redis.hostname, '-p', redis.port || '6379', ...args], {
          encoding: 'utf8',
        });
      for (const prefix of Object.values(prefixes)) {
        const keys = cli('--scan', '--pattern', `${prefix}:*`).split('\n').filter(Boolean);
        for (let i = 0; i < keys.length; i += 200) cli('DEL', ...keys.slice(i, i + 200));
      }
    }
  };

  try {
    if (options.kind === 'scale') {
      // Migrate first, so that the processes starting together do not race to create the tables.
      await Promise.all([
        qerds('migrate c2', ['db', 'migrate', '-c', c2File], /store migrated/),
        qerds('migrate c3', ['db', 'migrate', '-c', c3File], /store migrated/),
      ]);
      await Promise.all([
        qerds('c2 api', ['start', '--no-workers', '-c', c2File], /listening on/),
        qerds('c3 api', ['start', '--no-workers', '-c', c3File], /listening on/),
        ...Array.from({ length: workersPerAp }, (_, i) => [
          qerds(`c2 worker ${i + 1}`, ['worker', '-c', c2File], /running stages/),
          qerds(`c3 worker ${i + 1}`, ['worker', '-c', c3File], /running stages/),
        ]).flat(),
      ]);
    } else {
      await Promise.all([
        qerds('c2', ['start', '-c', c2File], /listening on/),
        qerds('c3', ['start', '-c', c3File], /listening on/),
      ]);
    }
  } catch (error) {
    await stop();
    throw error;
  }

  return {
    c2Url: `http://127.0.0.1:${c2Port}`,
    c3Url: `http://127.0.0.1:${c3Port}`,
    where: options.kind === 'scale' ? schemas : sqliteFiles,
    workersPerAp,
    async sql<T>(ap: 'c2' | 'c3', query: string): Promise<T[]> {
      if (pool) return (await pool.query(query.replaceAll('{schema}', schemas[ap]))).rows as T[];
      // WAL: a reader in this process does not block the AP's writer.
      sqlite[ap] ??= new Database(sqliteFiles[ap], { readonly: true, fileMustExist: true });
      return sqlite[ap].prepare(query.replaceAll('{schema}.', '')).all() as T[];
    },
    output: () =>
      [...outputs].map(([label, lines]) => `--- ${label}\n${lines.join('').slice(-2000)}`).join('\n'),
    running: () => [...byLabel.keys()],
    pid: (label) => byLabel.get(label)?.pid,
    kill(label) {
      const child = byLabel.get(label);
      if (!child) return Promise.reject(new Error(`no running process "${label}"`));
      return new Promise<void>((done) => {
        child.once('exit', () => done());
        child.kill('SIGKILL');
      });
    },
    async restart(label) {
      const command = commands.get(label);
      if (!command) throw new Error(`no process "${label}" was ever started`);
      if (byLabel.has(label)) throw new Error(`process "${label}" is still running`);
      await qerds(label, command.args, command.ready);
    },
    async pendingJobs() {
      if (options.kind !== 'scale') return 0;
      const redis = new URL(redisUrl);
      let pending = 0;
      for (const prefix of Object.values(prefixes)) {
        for (const stage of pipelineStages) {
          const queue = new BullQueue(queueName(stage), {
            connection: { host: redis.hostname, port: Number(redis.port || 6379) },
            prefix,
          });
          try {
            const counts = await queue.getJobCounts('waiting', 'active', 'delayed', 'prioritized', 'paused');
            pending += Object.values(counts).reduce((a, b) => a + b, 0);
          } finally {
            await queue.close();
          }
        }
      }
      return pending;
    },
    stop,
  };
}
