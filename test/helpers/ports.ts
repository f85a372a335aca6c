import { closeSync, mkdirSync, openSync, readFileSync, renameSync, rmSync, writeSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * A loopback TCP port for a server that must be named before it listens (an AP whose peer's config holds its
 * URL, a child process given `--port`). Prefer listen(0) and read the bound port wherever the port is not
 * needed in advance.
 *
 * A port taken by listen(0) and closed again may be handed out once more by the kernel before our server
 * binds it: to another listen(0), or as the source port of any outgoing connection — and with many test
 * files at once (and child processes that take seconds to start on a busy machine) that happens. So the port
 * comes from BELOW the kernel's ephemeral range (ip_local_port_range), which the kernel never hands out, and a
 * claim file (in the OS temp dir, holding our pid) keeps every other test process on this machine — other
 * workers, other checkouts' runs — off it while this process lives. A claim of a dead process is taken over.
 */
export async function claimPort(): Promise<number> {
  const [low, high] = claimablePortRange();
  for (let tries = 0; tries < 200; tries++) {
    const port = low + Math.floor(Math.random() * (high - low));
    if (claim(port) && (await bindable(port))) return port;
  }
  throw new Error(`no claimable port in ${low}-${high} after 200 tries (claims in ${claimDir})`);
}

const claimDir = join(tmpdir(), 'qerds-test-ports');

/** [low, high): 12,000 ports just below the ephemeral range. */
function claimablePortRange(): [number, number] {
  let ephemeralLow = 32768;
  try {
    ephemeralLow =
      Number(readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/)[0]) ||
      ephemeralLow;
  } catch {
    // not Linux: the IANA ephemeral range starts at 49152, so 32768 stays below it
  }
  const high = Math.min(ephemeralLow, 32768);
  return [Math.max(1024, high - 12_000), high];
}

/** Creates the claim file of `port` (exclusively), taking over the claim of a process that no longer runs. */
function claim(port: number): boolean {
  mkdirSync(claimDir, { recursive: true });
  const file = join(claimDir, String(port));
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fd = openSync(file, 'wx');
      writeSync(fd, String(process.pid));
      closeSync(fd);
      return true;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
    const holder = Number(readFileSync(file, 'utf8').trim());
    // An empty claim is one being written right now (between its open and its write): never stale.
    if (!holder || alive(holder)) return false;
    // Moved aside first (atomic), so two processes that both found the claim stale do not both delete a new one.
    const aside = `${file}.stale-${process.pid}-${Math.random().toString(36).slice(2)}`;
    try {
      renameSync(file, aside);
    } catch {
      return false; // another process took it over just now
    }
    rmSync(aside, { force: true });
  }
  return false;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Whether nothing (outside the claim files: some other program) listens on it now. */
function bindable(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}
