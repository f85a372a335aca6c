/**
 * Exact decimal amounts for invoice arithmetic: an xs:decimal held as a BigInt count of millionths. Sums of
 * invoice amounts must compare exactly (a binary float turns 0.1 + 0.2 into 0.30000000000000004 and a correct
 * invoice into a finding). Six fraction digits cover amounts (≤ 2), prices and rates (≤ 4 in practice).
 */
export type Micros = bigint;

export const SCALE = 1_000_000n;
const DECIMAL = /^([+-]?)(\d+)(?:\.(\d{1,6}))?$/;

/** The amount, or undefined when `text` is not an xs:decimal with at most six fraction digits. */
export function parseDecimal(text: string): Micros | undefined {
  const m = DECIMAL.exec(text.trim());
  if (!m) return undefined;
  const [, sign, whole, fraction = ''] = m;
  const value = BigInt(whole!) * SCALE + BigInt(fraction.padEnd(6, '0'));
  return sign === '-' ? -value : value;
}

/** Whether the written form has a fraction part (`100.00` has one: JPY amounts must not). */
export const hasFraction = (text: string): boolean => text.trim().includes('.');

export const sum = (values: readonly Micros[]): Micros => values.reduce((a, b) => a + b, 0n);

/** ⌊a / b⌋ for BigInt (BigInt division truncates toward zero). */
function floorDiv(a: bigint, b: bigint): bigint {
  const q = a / b;
  return a % b !== 0n && a < 0n !== b < 0n ? q - 1n : q;
}

/** taxable × percent / 100, in millionths, and its floor and ceiling in whole units (as millionths). */
export function percentOf(
  taxable: Micros,
  percent: Micros,
): { exact: Micros; floor: Micros; ceiling: Micros } {
  // taxable·percent is in 10⁻¹² units; /100 for the percent, /10⁶ back to millionths.
  const product = taxable * percent;
  const exactUnits = 100n * SCALE * SCALE;
  const floor = floorDiv(product, exactUnits) * SCALE;
  const ceiling = -floorDiv(-product, exactUnits) * SCALE;
  return { exact: floorDiv(product, 100n * SCALE), floor, ceiling };
}

export function formatDecimal(value: Micros): string {
  const sign = value < 0n ? '-' : '';
  const abs = value < 0n ? -value : value;
  const fraction = (abs % SCALE).toString().padStart(6, '0').replace(/0+$/, '');
  return `${sign}${abs / SCALE}${fraction ? `.${fraction}` : ''}`;
}
