import type { RetryPolicy } from './ports.js';
import type { JobOutcome } from './types.js';

export interface BackoffOptions {
  /** Delay ceiling of the first retry, in ms; doubles with each further attempt. */
  readonly baseMs: number;
  /** Largest delay, in ms. */
  readonly maxMs: number;
  /** Source of randomness in [0, 1). @defaultValue Math.random */
  readonly random?: () => number;
}

/**
 * Delay before retry number `attempt` (1-based): exponential (baseMs · 2^(attempt−1), capped at maxMs)
 * with "equal jitter": half of it fixed, half random. Jobs that failed together (a peer was down) come
 * back spread out instead of all at once, and no retry comes back at once.
 */
export function backoffDelay(attempt: number, options: BackoffOptions): number {
  const n = Number.isFinite(attempt) ? Math.max(1, Math.floor(attempt)) : 1;
  const ceiling = Math.min(options.maxMs, options.baseMs * 2 ** Math.min(n - 1, 52));
  const random = options.random ?? Math.random;
  return Math.round(ceiling / 2 + (random() * ceiling) / 2);
}

/**
 * How long a retry policy keeps trying: the sum of the back-off delays between its first and its last
 * attempt (the attempts' own durations not counted). With equal jitter each delay lies between half its
 * ceiling and the whole: `min` is the span guaranteed whatever the jitter draws, `max` the longest.
 * A peer that is back within `min` of the first failure gets the message.
 */
export function retrySpanMs(policy: RetryPolicy, bound: 'min' | 'max'): number {
  let total = 0;
  for (let attempt = 1; attempt < policy.maxAttempts; attempt++) {
    total += backoffDelay(attempt, {
      baseMs: policy.baseDelayMs,
      maxMs: policy.maxDelayMs,
      random: () => (bound === 'min' ? 0 : 1),
    });
  }
  return total;
}

/** The outcome "try again after the back-off of `policy` for attempt `attempts`", the way every stage retries. */
export function retryAfter(
  policy: RetryPolicy,
  attempts: number,
  error: string,
): JobOutcome & { status: 'retry' } {
  return {
    status: 'retry',
    delayMs: backoffDelay(attempts, { baseMs: policy.baseDelayMs, maxMs: policy.maxDelayMs }),
    error,
  };
}
