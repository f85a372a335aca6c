import { QerdsError } from '../core/errors.js';
import { systemClock, type Clock, type TimeStampToken, type TsaClient } from '../core/ports.js';

export interface FailoverTsaOptions {
  /** How long (ms) a TSA that failed is tried only after the others. @defaultValue 30000 */
  readonly cooldownMs?: number;
  /** Names of the clients in logs and errors (their URLs). @defaultValue `tsa[<index>]` */
  readonly names?: readonly string[];
  /** Told of every failure and fail-over (pino's `warn`). */
  readonly log?: { warn(obj: Record<string, unknown>, msg: string): void };
  /** Source of the cooldown time. @defaultValue systemClock */
  readonly clock?: Clock;
}

/**
 * A TsaClient over several TSAs: asks them in the order given and returns the first token. A TSA whose
 * last request failed (unreachable, HTTP error, rejection, or a token that failed the client's checks) is
 * skipped for `cooldownMs` while another one answers; when every TSA is cooling down they are still tried
 * (in order), so that one outage does not stop all sealing. When all fail: `TSA_UNAVAILABLE` naming each cause.
 *
 * Each client keeps its own checks (nonce, imprint, signature, trust, policy): fail-over never accepts a
 * token the one client would have refused.
 */
export function createFailoverTsaClient(
  clients: readonly TsaClient[],
  options: FailoverTsaOptions = {},
): TsaClient {
  if (clients.length === 0)
    throw new QerdsError('TSA_CONFIG_INVALID', 'fail-over needs at least one TSA client');
  const cooldownMs = options.cooldownMs ?? 30_000;
  const clock = options.clock ?? systemClock;
  const name = (i: number): string => options.names?.[i] ?? `tsa[${i}]`;
  const failedAt: (number | undefined)[] = clients.map(() => undefined);

  return {
    async timestamp(imprint): Promise<TimeStampToken> {
      const now = clock.now().getTime();
      const cooling = (i: number) => failedAt[i] !== undefined && now - (failedAt[i] as number) < cooldownMs;
      const indexes = clients.map((_, i) => i);
      const order = [...indexes.filter((i) => !cooling(i)), ...indexes.filter(cooling)];
      const causes: { tsa: string; code: string; message: string }[] = [];
      for (const i of order) {
        try {
          const token = await (clients[i] as TsaClient).timestamp(imprint);
          failedAt[i] = undefined;
          if (causes.length > 0)
            options.log?.warn({ tsa: name(i), failed: causes }, 'timestamp obtained after fail-over');
          return token;
        } catch (e) {
          failedAt[i] = clock.now().getTime();
          const cause = {
            tsa: name(i),
            code: e instanceof QerdsError ? e.code : 'TSA_ERROR',
            message: (e as Error).message,
          };
          causes.push(cause);
          options.log?.warn(cause, 'TSA failed; trying the next one');
        }
      }
      throw new QerdsError(
        'TSA_UNAVAILABLE',
        `no TSA answered: ${causes.map((c) => `${c.tsa}: ${c.code} ${c.message}`).join('; ')}`,
        {
          details: { causes },
        },
      );
    },
  };
}
