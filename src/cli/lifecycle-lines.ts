import type { QerdsConfig } from '../config/index.js';

/** Which store and queue a process runs on, for its start line: `store sqlite data/qerds.sqlite, queue in-process`. */
export function storeAndQueue(config: QerdsConfig): string {
  // The PostgreSQL URL may carry a password: only its host and database are shown.
  const store =
    config.store.kind === 'postgres'
      ? `store postgres ${postgresWhere(config.store.postgresUrl)} schema ${config.store.postgresSchema}`
      : `store sqlite ${config.store.sqliteFile}`;
  const queue =
    config.queue.kind === 'bullmq'
      ? `queue bullmq ${redisWhere(config.queue.redisUrl)} prefix ${config.queue.prefix}`
      : 'queue in-process';
  return `${store}, ${queue}`;
}

function postgresWhere(url: string): string {
  try {
    const u = new URL(url);
    return `${u.host}${u.pathname}`;
  } catch {
    return '(url)';
  }
}

function redisWhere(url: string): string {
  try {
    return new URL(url).host;
  } catch {
    return '(url)';
  }
}

/**
 * On SIGINT or SIGTERM: a line saying the process stops and why, the graceful stop (in-flight requests and
 * jobs finish), a line once stopped, exit 0. A second signal while stopping exits at once (1).
 */
export function stopOnSignal(what: string, stop: () => Promise<void>): void {
  let stopping = false;
  const onSignal = (signal: NodeJS.Signals) => {
    if (stopping) {
      process.stdout.write(`${what} stopping again (${signal}): exiting without waiting\n`);
      process.exit(1);
    }
    stopping = true;
    const started = Date.now();
    process.stdout.write(`${what} stopping (${signal}): finishing in-flight requests and jobs\n`);
    stop().then(
      () => {
        process.stdout.write(`${what} stopped after ${Date.now() - started} ms\n`);
        process.exit(0);
      },
      (error: unknown) => {
        process.stderr.write(`${what} did not stop cleanly: ${(error as Error).message}\n`);
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
}
