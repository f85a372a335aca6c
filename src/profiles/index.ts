import {
  definePMode,
  withProfileDefaults,
  type As4Profile,
  type PMode,
  type PModeInput,
} from '../as4/index.js';
import { QerdsError } from '../core/index.js';
import { peppolAs4Profile } from '../peppol/index.js';
import { eDeliveryAs4v115Profile, eDeliveryAs4v20Profile } from './edelivery.js';
import { ACTION_DISPATCH, ACTION_EVIDENCE, erdsPMode, erdsPModes } from './erds-profile.js';
import { peppolJpPintPModes } from './peppol.js';

/**
 * The AS4 profile plug-ins and the choice among them. Only the composition root (src/access-point.ts, the
 * access-point bindings) and the CLI import this module; the AS4 core knows the `As4Profile` contract alone.
 */
export * from './erds-profile.js';
export { eDeliveryAs4v115Profile, eDeliveryAs4v20Profile } from './edelivery.js';
export { peppolJpPintPModes } from './peppol.js';

/** The profiles an AP may name in `as4.profile` and in a P-Mode's `profile`. */
export const AS4_PROFILES: ReadonlyMap<string, As4Profile> = new Map(
  [eDeliveryAs4v115Profile, eDeliveryAs4v20Profile, peppolAs4Profile].map((p) => [p.id, p]),
);

/** The profile `id` names; an unknown id is a configuration error. */
export function as4Profile(id: string): As4Profile {
  const profile = AS4_PROFILES.get(id);
  if (!profile)
    throw new QerdsError(
      'CONFIG_INVALID',
      `as4: unknown AS4 profile "${id}" (known: ${[...AS4_PROFILES.keys()].join(', ')})`,
    );
  return profile;
}

/**
 * The P-Modes an AP runs when `as4.pmodes` names none, by `as4.profile`: on an eDelivery profile the ERDS service
 * (Dispatch, Evidence); on Peppol the JP PINT document types, and the ERDS P-Modes on eDelivery AS4 1.15 (the
 * algorithms Peppol uses too): Evidence, so that a qerds-ap peer can return the recipient side's evidence, and
 * Dispatch, so that the same AP relays to qerds-ap peers over the ERDS service beside its Peppol peers (which one a
 * message takes is its recipient's directory entry: access-point/as4-peppol.ts `peerSpeaksPeppol`).
 */
export function defaultPModes(profileId: string): PModeInput[] {
  const profile = as4Profile(profileId);
  if (profile.id === peppolAs4Profile.id)
    return [
      ...peppolJpPintPModes(),
      erdsPMode(eDeliveryAs4v115Profile, ACTION_EVIDENCE),
      erdsPMode(eDeliveryAs4v115Profile, ACTION_DISPATCH),
    ];
  return erdsPModes(profile);
}

export interface ProfiledPMode {
  readonly pmode: PMode;
  readonly profile: As4Profile;
}

/**
 * The P-Modes of `as4` (or the profile's defaults), each over its profile's defaults and checked by its profile:
 * a fatal finding is CONFIG_INVALID at start. A P-Mode without `profile` follows the eDelivery profile of its
 * algorithm set, else `as4.profile`.
 */
export function resolvePModes(as4: {
  readonly profile: string;
  readonly pmodes?: readonly PModeInput[] | undefined;
}): ProfiledPMode[] {
  return (as4.pmodes ?? defaultPModes(as4.profile)).map((input) => {
    const profile = as4Profile(input.profile ?? input.security?.algorithmSet ?? as4.profile);
    const pmode = definePMode(withProfileDefaults(profile, input));
    const fatal = profile.validate(pmode).filter((f) => f.severity === 'fatal');
    if (fatal.length > 0)
      throw new QerdsError(
        'CONFIG_INVALID',
        `as4: P-Mode ${pmode.id} breaks the ${profile.id} profile: ${fatal.map((f) => `${f.rule}: ${f.message}`).join('; ')}`,
      );
    return { pmode, profile };
  });
}
