import {
  assuranceLevelOf,
  loaUri,
  overallAssurance,
  type AssuranceLevel,
  type Identification,
} from '../core/index.js';

/** Minimum overall assurance per service (config `policy`). */
export interface AssurancePolicy {
  readonly minSubmission: AssuranceLevel;
  readonly minHandover: AssuranceLevel;
}

/** The overall level an identification presents: min(IAL, AAL) when both are known, else its LoA URI's level (0 when unrankable). */
export function presentedAssurance(identification: Identification): AssuranceLevel | 0 {
  if (identification.ial !== undefined && identification.aal !== undefined)
    return overallAssurance(identification.ial, identification.aal).level;
  return assuranceLevelOf(identification.assuranceLevel) ?? 0;
}

/** Why an identification falls short of `required`, in words for the evidence and the problem; undefined when it suffices. */
export function assuranceShortfall(
  identification: Identification,
  required: AssuranceLevel,
): string | undefined {
  const presented = presentedAssurance(identification);
  if (presented >= required) return undefined;
  const parts =
    identification.ial !== undefined && identification.aal !== undefined
      ? ` (IAL${identification.ial}, AAL${identification.aal})`
      : '';
  const shown = presented === 0 ? identification.assuranceLevel : loaUri(presented);
  return `assurance level ${loaUri(required)} required, ${shown}${parts} presented by ${identification.method}`;
}
