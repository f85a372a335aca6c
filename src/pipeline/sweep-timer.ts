import { QerdsError } from '../core/index.js';

/** A sweep's name: it becomes part of a Redis key and a BullMQ queue name. */
const sweepNamePattern = /^[a-z0-9][a-z0-9-]{0,62}$/;

/** Checks what every adapter's registerSweep takes: a plain name and a positive whole interval. */
export function checkSweep(name: string, everyMs: number, registered: ReadonlySet<string>): void {
  if (!sweepNamePattern.test(name))
    throw new QerdsError('CONFIG_INVALID', `sweep name "${name}" must match ${sweepNamePattern.source}`);
  if (!Number.isInteger(everyMs) || everyMs < 1)
    throw new QerdsError(
      'CONFIG_INVALID',
      `sweep ${name}: interval must be a positive integer of ms, got ${everyMs}`,
    );
  if (registered.has(name))
    throw new QerdsError('PIPELINE_HANDLER_EXISTS', `sweep ${name} is already registered`);
}

/**
 * The in-process sweep: a timer that runs `fn` every `everyMs` ms, never two runs at once (a run that
 * outlasts the interval makes the next tick wait for it), errors reported and the timer kept going.
 */
export function startSweepTimer(
  everyMs: number,
  fn: () => Promise<void>,
  onError: (error: unknown) => void,
): { stop(): Promise<void> } {
  let current: Promise<void> | undefined;
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  const tick = () => {
    timer = undefined;
    if (stopped) return;
    current = fn()
      .catch(onError)
      .finally(() => {
        current = undefined;
        if (!stopped) schedule();
      });
  };
  const schedule = () => {
    timer = setTimeout(tick, everyMs);
    timer.unref();
  };
  schedule();
  return {
    async stop() {
      stopped = true;
      if (timer) clearTimeout(timer);
      await current;
    },
  };
}
