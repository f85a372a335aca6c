import {
  formatParticipantId,
  overallAssurance,
  type AssuranceLevel,
  type Clock,
  type Identification,
} from '../core/index.js';
import type { PickupLinkCheck, PickupLinkPayload, PickupLinks } from '../pipeline/index.js';
import { createRateWindow, verifyPassword } from '../smtp/index.js';
import type { AccountRegistry } from './accounts.js';
import { assuranceShortfall } from './assurance-policy.js';
import { PICKUP_LINK_PASSWORD_METHOD, PICKUP_LINK_TOTP_METHOD } from './methods.js';
import { verifyTotp } from './totp.js';

export interface PickupGateOptions {
  readonly links: PickupLinks;
  readonly accounts: AccountRegistry;
  readonly clock: Clock;
  /** Minimum overall assurance of a handover (policy.minHandoverAssurance). */
  readonly minHandover: AssuranceLevel;
  /** Wrong second factors tolerated per link before it is refused for good. @defaultValue 5 */
  readonly maxAttempts?: number;
  /** Wrong second factors tolerated per client address in 15 minutes, over all links. @defaultValue 20 */
  readonly maxFailuresPerClient?: number;
}

/** The second factor a person presents with a link: a TOTP code or a password. */
export interface PickupFactor {
  readonly totp?: string;
  readonly password?: string;
}

/** Why the gate refused, with the code the JSON API answers (its catalogue entry, api/errors.ts, holds the status; the page words each in its own way). */
export type PickupRefusal =
  | {
      readonly kind: 'link';
      readonly code: 'PICKUP_LINK_INVALID' | 'PICKUP_LINK_EXPIRED';
      readonly detail: string;
    }
  | {
      readonly kind: 'locked';
      readonly code: 'PICKUP_LINK_LOCKED';
      readonly detail: string;
    }
  | {
      readonly kind: 'client-limit';
      readonly code: 'PICKUP_TOO_MANY_ATTEMPTS';
      readonly detail: string;
    }
  | {
      readonly kind: 'factor-required';
      readonly code: 'PICKUP_FACTOR_REQUIRED';
      readonly detail: string;
    }
  | {
      readonly kind: 'factor-invalid';
      readonly code: 'PICKUP_FACTOR_INVALID';
      readonly detail: string;
      readonly attemptsLeft: number;
      readonly method: string;
    }
  | {
      readonly kind: 'assurance';
      readonly code: 'ASSURANCE_TOO_LOW';
      readonly detail: string;
    };

export type PickupGateOutcome =
  | { readonly ok: true; readonly link: PickupLinkPayload; readonly identification: Identification }
  | ({ readonly ok: false; readonly link?: PickupLinkPayload } & PickupRefusal);

/** Which second factors the recipient a link names has enrolled (what the page asks for). */
export interface EnrolledFactors {
  readonly totp: boolean;
  readonly password: boolean;
}

export interface PickupGate {
  /** The link a token names, or why it does not (MAC, form, expiry). */
  link(token: string): PickupLinkCheck;
  /** The factors the link's recipient can present; none when it is no person with a pickup credential. */
  enrolled(link: PickupLinkPayload): EnrolledFactors;
  /** Checks the link, its lockout, the client's failures, the factor and the handover policy, in that order. */
  check(token: string, factor: PickupFactor, client: string): Promise<PickupGateOutcome>;
  /** Forgets a link's wrong factors once it is used. */
  used(linkId: string): void;
}

/** AAL of a pickup link with each second factor (see methods.ts). */
const TOTP_AAL: AssuranceLevel = 2;
const PASSWORD_AAL: AssuranceLevel = 1;

/**
 * The second-factor check of a pickup link (REQ4), one instance shared by the JSON route and the page so that
 * both count the same wrong factors: a link is locked after `maxAttempts` wrong factors however they came
 * (threat: guessing a 6-digit TOTP with a stolen link, 5 tries through the API and 5 more through the form),
 * and one client address is stopped after `maxFailuresPerClient` wrong factors over all links (threat: one
 * client working through many links). In memory, per process; a link's lifetime bounds its entry.
 */
export function createPickupGate(options: PickupGateOptions): PickupGate {
  const maxAttempts = options.maxAttempts ?? 5;
  const maxPerClient = options.maxFailuresPerClient ?? 20;
  const failures = new Map<string, { count: number; expiresAt: Date }>();
  const clientFailures = createRateWindow({
    windowMs: 15 * 60_000,
    now: () => options.clock.now().getTime(),
  });

  const enrolled = (link: PickupLinkPayload): EnrolledFactors => {
    const factors = options.accounts.pickupFactorsOf(formatParticipantId(link.recipient));
    return { totp: Boolean(factors?.totpSecret), password: Boolean(factors?.passwordHash) };
  };

  return {
    link: (token) => options.links.verify(token),
    enrolled,
    used: (linkId) => void failures.delete(linkId),
    async check(token, factor, client) {
      const now = options.clock.now();
      for (const [id, f] of failures) if (f.expiresAt <= now) failures.delete(id);
      const link = options.links.verify(token);
      if (!link.ok) return { ok: false, kind: 'link', code: link.code, detail: link.reason };
      const failed = failures.get(link.linkId)?.count ?? 0;
      if (failed >= maxAttempts)
        return {
          ok: false,
          link,
          kind: 'locked',
          code: 'PICKUP_LINK_LOCKED',
          detail: `the pickup link is locked after ${failed} wrong second factors`,
        };
      if (clientFailures.count(client) >= maxPerClient) {
        return {
          ok: false,
          link,
          kind: 'client-limit',
          code: 'PICKUP_TOO_MANY_ATTEMPTS',
          detail: 'too many wrong second factors from this client; try again later',
        };
      }

      const factors = options.accounts.pickupFactorsOf(formatParticipantId(link.recipient));
      let method: string;
      let aal: AssuranceLevel;
      let ok: boolean;
      if (typeof factor.totp === 'string' && factors?.totpSecret) {
        [method, aal, ok] = [
          PICKUP_LINK_TOTP_METHOD,
          TOTP_AAL,
          verifyTotp(factors.totpSecret, factor.totp.trim(), now),
        ];
      } else if (typeof factor.password === 'string' && factors?.passwordHash) {
        [method, aal, ok] = [
          PICKUP_LINK_PASSWORD_METHOD,
          PASSWORD_AAL,
          await verifyPassword(factor.password, factors.passwordHash),
        ];
      } else {
        return {
          ok: false,
          link,
          kind: 'factor-required',
          code: 'PICKUP_FACTOR_REQUIRED',
          detail: 'a second factor is required: "totp" or "password", as enrolled for the recipient',
        };
      }
      if (!ok) {
        failures.set(link.linkId, { count: failed + 1, expiresAt: link.expiresAt });
        clientFailures.add(client);
        return {
          ok: false,
          link,
          kind: 'factor-invalid',
          code: 'PICKUP_FACTOR_INVALID',
          detail: 'the second factor is not valid',
          attemptsLeft: maxAttempts - failed - 1,
          method,
        };
      }

      const ial = factors!.ial;
      const identification: Identification = {
        method,
        assuranceLevel: overallAssurance(ial, aal).uri,
        authenticatedAt: now,
        ial,
        aal,
        // The link id's prefix, never the token (a bearer secret until used).
        credentialId: `pickup-link:${link.linkId.slice(0, 8)}`,
      };
      const shortfall = assuranceShortfall(identification, options.minHandover);
      if (shortfall)
        return {
          ok: false,
          link,
          kind: 'assurance',
          code: 'ASSURANCE_TOO_LOW',
          detail: shortfall,
        };
      return { ok: true, link, identification };
    },
  };
}
