import type { PMode, PModeInput } from './pmode.js';

/**
 * The contract of an AS4 profile plug-in (after phase4's `IAS4Profile`): the P-Mode parameters the profile fixes
 * and the rules a P-Mode must keep to conform. The AS4 core declares the contract and knows no profile; the
 * profiles (eDelivery AS4 1.15 and 2.0, Peppol, …) implement it outside src/as4, and the composition root picks
 * them from the configuration.
 */
export interface As4Profile {
  /** Stable id, as the configuration names it (`edelivery-1.15`, `edelivery-2.0`, `peppol`). */
  readonly id: string;
  /** P-Mode parameters every P-Mode of the profile starts from (merged under the caller's, never into them). */
  readonly pmodeDefaults: Readonly<Partial<PModeInput>>;
  /** What in a P-Mode breaks the profile. Empty: it conforms. */
  readonly validate: (pmode: PMode) => As4ProfileFinding[];
}

/** A profile rule a P-Mode breaks: `fatal` ones make the P-Mode unusable under the profile. */
export interface As4ProfileFinding {
  readonly rule: string;
  readonly severity: 'fatal' | 'warning';
  readonly message: string;
  readonly location?: string;
}

/**
 * `input` over `profile`'s defaults: a new object (neither is modified); the nested `security`, `receipt` and
 * `reliability` sections merge field by field, so a P-Mode that sets `security.encrypt` keeps the profile's
 * algorithm set.
 */
export function withProfileDefaults(profile: As4Profile, input: PModeInput): PModeInput {
  const defaults = profile.pmodeDefaults;
  return {
    ...defaults,
    ...input,
    security: { ...defaults.security, ...input.security },
    receipt: { ...defaults.receipt, ...input.receipt },
    reliability: { ...defaults.reliability, ...input.reliability },
  };
}
