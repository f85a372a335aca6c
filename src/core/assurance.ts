/**
 * Assurance levels of an identification (REQ3 / REQ4).
 *
 * Japan's guideline on online identity verification for administrative procedures (Digital Agency,
 * DS-500, modelled on NIST SP 800-63-3) rates an identification on two axes, each 1–3:
 * - IAL, identity assurance level (身元確認保証レベル): how well the participant's identity was proven
 *   when it was enrolled (for a company: corporate number checked against the registry, certificate
 *   issued by a CA after checking the commercial registration, …);
 * - AAL, authenticator assurance level (当人認証保証レベル): how strongly this request proves that it
 *   comes from that enrolled participant.
 * The overall assurance is the LOWER of the two: a strong key held by a participant nobody checked, or a
 * well-checked participant behind a guessable secret, is only as good as its weaker half.
 *
 * Evidence (EN 319 522) carries assurance levels as URIs; we use the eIDAS levels of Implementing
 * Regulation (EU) 2015/1502, mapped one to one:
 *
 * | level | eIDAS LoA URI                               |
 * |-------|---------------------------------------------|
 * | 1     | http://eidas.europa.eu/LoA/low              |
 * | 2     | http://eidas.europa.eu/LoA/substantial      |
 * | 3     | http://eidas.europa.eu/LoA/high             |
 *
 * The mapping is ours (neither document maps to the other); it follows the usual reading of NIST
 * SP 800-63 against eIDAS (level 2 ≈ substantial, level 3 ≈ high) and takes level 1 as low.
 */
export type AssuranceLevel = 1 | 2 | 3;

export const LOA_URI = {
  1: 'http://eidas.europa.eu/LoA/low',
  2: 'http://eidas.europa.eu/LoA/substantial',
  3: 'http://eidas.europa.eu/LoA/high',
} as const satisfies Record<AssuranceLevel, string>;

const LOA_NAMES: Readonly<Record<string, AssuranceLevel>> = { low: 1, substantial: 2, high: 3 };

/** The eIDAS LoA URI of a level. */
export function loaUri(level: AssuranceLevel): string {
  return LOA_URI[level];
}

/**
 * The level of an assurance written as an eIDAS LoA URI, a name (`low`, `substantial`, `high`) or a
 * number 1–3; undefined for anything else (an unknown URI is no assurance we can rank).
 */
export function assuranceLevelOf(value: string | number): AssuranceLevel | undefined {
  if (value === 1 || value === 2 || value === 3) return value;
  if (typeof value !== 'string') return undefined;
  const text = value.trim();
  if (/^[123]$/.test(text)) return Number(text) as AssuranceLevel;
  const named = LOA_NAMES[text.toLowerCase()];
  if (named) return named;
  const entry = Object.entries(LOA_URI).find(([, uri]) => uri === text);
  return entry ? (Number(entry[0]) as AssuranceLevel) : undefined;
}

/** Overall assurance of an identification: min(IAL, AAL), with its eIDAS LoA URI. */
export function overallAssurance(
  ial: AssuranceLevel,
  aal: AssuranceLevel,
): { readonly level: AssuranceLevel; readonly uri: string } {
  const level = Math.min(ial, aal) as AssuranceLevel;
  return { level, uri: LOA_URI[level] };
}
