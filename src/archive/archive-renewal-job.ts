import type { Logger } from 'pino';
import type { Clock } from '../core/index.js';
import type { Store } from '../store/index.js';
import {
  renewArchiveTimestamps,
  type RenewArchiveOptions,
  type RenewArchiveResult,
} from './renew-archive-timestamps.js';

export interface ArchiveRenewalJobOptions extends Omit<RenewArchiveOptions, 'now' | 'crls'> {
  /** CRLs to embed, asked at each sweep (they are refreshed while the AP runs). @defaultValue none */
  readonly crls?: () => readonly (Buffer | string)[];
  readonly store: Store;
  readonly clock: Clock;
  /** Time between sweeps. @defaultValue 24 h */
  readonly intervalMs?: number;
  readonly log?: Logger;
  /** Told how many evidence each sweep renewed (for a metrics counter). */
  readonly onRenewed?: (count: number) => void;
}

export interface ArchiveRenewalJob {
  /** Sweeps now and then every intervalMs, until stop(). */
  start(): void;
  /** Stops the timer and waits for a sweep in progress. */
  stop(): Promise<void>;
  /** One sweep (not concurrently with another: a second call waits for the first's result). */
  runOnce(): Promise<RenewArchiveResult>;
}

/**
 * The in-process form of `qerds archive renew`. The AP runs `runOnce` as a queue sweep (`Queue.registerSweep`:
 * once per interval across every process sharing the broker); `start()` is a plain timer for a process of its
 * own. Two sweeps at once on one store would both renew the same due evidence (harmless, two archive
 * timestamps, but wasted TSA requests) — hence the cluster-wide sweep in the AP.
 */
export function createArchiveRenewalJob(options: ArchiveRenewalJobOptions): ArchiveRenewalJob {
  const { store, clock, log, onRenewed, intervalMs = 86_400_000, crls, ...renew } = options;
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<RenewArchiveResult> | undefined;
  const runOnce = (): Promise<RenewArchiveResult> => {
    running ??= renewArchiveTimestamps(store, {
      ...renew,
      ...(crls ? { crls: crls() } : {}),
      now: clock.now(),
    })
      .then((result) => {
        if (result.renewed.length > 0) onRenewed?.(result.renewed.length);
        // A sweep that found nothing due is routine (daily): debug, not info.
        const level = result.renewed.length > 0 || result.failed.length > 0 ? 'info' : 'debug';
        log?.[level](
          { scanned: result.scanned, renewed: result.renewed.length, failed: result.failed.length },
          'archive renewal sweep',
        );
        for (const f of result.failed)
          log?.warn(
            { evidenceId: f.id, reason: f.reason, err: f.error },
            'evidence due for archive renewal could not be renewed',
          );
        return result;
      })
      .finally(() => {
        running = undefined;
      });
    return running;
  };
  const tick = () => {
    runOnce().catch((error: unknown) => log?.error({ err: error }, 'archive renewal sweep failed'));
  };
  return {
    start() {
      if (timer) return;
      tick();
      timer = setInterval(tick, intervalMs);
      timer.unref();
    },
    async stop() {
      if (timer) clearInterval(timer);
      timer = undefined;
      await running?.catch(() => undefined);
    },
    runOnce,
  };
}
