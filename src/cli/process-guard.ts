import type { Logger } from 'pino';

export interface ProcessGuardOptions {
  /** Errors tolerated within `windowMs` before the process gives up and exits (1). @defaultValue 10 */
  readonly maxErrors?: number;
  /** Sliding window of that count, in ms. @defaultValue 60 000 */
  readonly windowMs?: number;
  /** What to do when the budget is spent. @defaultValue process.exit(1) */
  readonly exit?: (code: number) => void;
}

/**
 * Keeps a long-running AP process serving when an error escapes a request: an 'error' event of a stream
 * nobody listened to, or a rejected promise nobody awaited. Threat: a single crafted request (a truncated
 * multipart form made busboy emit such an error) ends the process and every transfer in flight with it,
 * a denial of service for one packet. Request paths are written so that nothing escapes; this is the net
 * under them. The error is logged (fatal) with its stack so that the hole gets fixed; a process that keeps
 * failing (`maxErrors` within `windowMs`) is probably broken rather than attacked and exits, for its
 * supervisor to restart it. Returns the function that removes the guard.
 */
export function installProcessGuard(log: Logger, options: ProcessGuardOptions = {}): () => void {
  const maxErrors = options.maxErrors ?? 10;
  const windowMs = options.windowMs ?? 60_000;
  const exit = options.exit ?? ((code: number) => process.exit(code));
  const recent: number[] = [];
  const onError = (error: unknown, origin: string) => {
    const now = Date.now();
    recent.push(now);
    while (recent.length > 0 && recent[0]! <= now - windowMs) recent.shift();
    log.fatal({ err: error, origin, recent: recent.length }, 'an error escaped its request; still serving');
    if (recent.length > maxErrors) {
      log.fatal({ maxErrors, windowMs }, 'too many escaped errors: exiting');
      exit(1);
    }
  };
  process.on('uncaughtException', onError);
  return () => void process.off('uncaughtException', onError);
}
