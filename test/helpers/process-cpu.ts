import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';
import type { ApCluster } from './ap-cluster.js';

/**
 * CPU time of processes from /proc/<pid>/stat (Linux), for the soak's CPU-per-message figure. CPU time
 * rather than wall-clock throughput, because the machine is shared: other work slows a run down, but
 * hardly changes how many CPU milliseconds our processes spend on it.
 */

/** Clock ticks per second of utime/stime (`getconf CLK_TCK`; 100 on every Linux we run on). */
const TICKS_PER_SECOND = 100;

/** utime + stime (+ cutime + cstime of waited-for children) of `pid` in ms; undefined once it is gone. */
export function processCpuMs(pid: number): number | undefined {
  let stat: string;
  try {
    stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return undefined;
  }
  // Fields after the command name, which may itself hold spaces and parentheses: the last ')' ends it.
  // From there: state(3) ppid(4) … utime(14) stime(15) cutime(16) cstime(17), 1-based as in proc(5).
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const at = (n: number) => Number(fields[n - 3]);
  return ((at(14) + at(15) + at(16) + at(17)) * 1000) / TICKS_PER_SECOND;
}

/**
 * CPU ms spent between `start()` and `stop()` by groups of processes (by role). Each group names its pids
 * at both ends: a pid seen only at the end (a process or PostgreSQL backend that began in between) counts
 * from 0, a pid gone by the end counts what it had at the start as spent (its later CPU is lost: report
 * roles whose processes live through the window).
 */
export class CpuWindow {
  private readonly before = new Map<string, Map<number, number>>();

  constructor(private readonly pidsOf: () => Promise<Map<string, number[]>>) {}

  async start(): Promise<void> {
    for (const [role, pids] of await this.pidsOf()) this.before.set(role, snapshot(pids));
  }

  /** CPU ms per role spent in the window. */
  async stop(): Promise<Map<string, number>> {
    const spent = new Map<string, number>();
    for (const [role, pids] of await this.pidsOf()) {
      const start = this.before.get(role) ?? new Map<number, number>();
      const end = snapshot(pids);
      let ms = 0;
      for (const [pid, cpu] of end) ms += cpu - (start.get(pid) ?? 0);
      spent.set(role, ms);
    }
    return spent;
  }
}

function snapshot(pids: readonly number[]): Map<number, number> {
  const cpu = new Map<number, number>();
  for (const pid of pids) {
    const ms = processCpuMs(pid);
    if (ms !== undefined) cpu.set(pid, ms);
  }
  return cpu;
}

/**
 * Local TCP ports of the sockets `pids` hold open (from their /proc/<pid>/fd links and /proc/net/tcp{,6}):
 * with pg_stat_activity.client_port, this tells which PostgreSQL backends serve these processes.
 */
export function localTcpPortsOf(pids: readonly number[]): Set<number> {
  const inodes = new Set<string>();
  for (const pid of pids) {
    let fds: string[];
    try {
      fds = readdirSync(`/proc/${pid}/fd`);
    } catch {
      continue;
    }
    for (const fd of fds) {
      try {
        const socket = /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/${pid}/fd/${fd}`));
        if (socket) inodes.add(socket[1]!);
      } catch {
        // closed meanwhile
      }
    }
  }
  const ports = new Set<number>();
  for (const table of ['/proc/net/tcp', '/proc/net/tcp6']) {
    let lines: string[];
    try {
      lines = readFileSync(table, 'utf8').trim().split('\n').slice(1);
    } catch {
      continue;
    }
    for (const line of lines) {
      // sl local_address rem_address st tx_queue:rx_queue tr:tm->when retrnsmt uid timeout inode …
      const columns = line.trim().split(/\s+/);
      if (inodes.has(columns[9]!)) ports.add(parseInt(columns[1]!.split(':')[1]!, 16));
    }
  }
  return ports;
}

/**
 * The processes of each role of a cluster: its AP processes (`c2 api`, `c3 workers`, … or `c2`, `c3` embedded),
 * at scale their PostgreSQL backends (by the client ports of the AP processes' sockets) and the Redis server
 * (shared with anything else on the machine).
 */
export async function pidsByRole(cluster: ApCluster): Promise<Map<string, number[]>> {
  const roles = new Map<string, number[]>();
  for (const label of cluster.running()) {
    const role = label.replace(/ \d+$/, 's'); // `c2 worker 1` → `c2 workers`
    const pid = cluster.pid(label);
    if (pid !== undefined) roles.set(role, [...(roles.get(role) ?? []), pid]);
  }
  if (cluster.workersPerAp === 0) return roles; // embedded: SQLite and the in-process queue live in the AP processes
  const ports = localTcpPortsOf([...roles.values()].flat());
  const backends = await cluster.sql<{ pid: number; client_port: number | null }>(
    'c2',
    'select pid, client_port from pg_stat_activity where pid <> pg_backend_pid()',
  );
  roles.set(
    'PostgreSQL backends',
    backends.filter((b) => b.client_port !== null && ports.has(b.client_port)).map((b) => b.pid),
  );
  try {
    const info = execFileSync('redis-cli', ['info', 'server'], { encoding: 'utf8' });
    const pid = /process_id:(\d+)/.exec(info)?.[1];
    if (pid) roles.set('Redis (shared)', [Number(pid)]);
  } catch {
    // no redis-cli: the figure is left out
  }
  return roles;
}
