/**
 * The ISO 6523 ICD codes qerds-ap checks the value of, a subset of the Peppol Code List "Participant identifier
 * schemes" (v9.7 read from phax/peppol-commons `peppol-id/src/main/resources/external/codelists/`), each with the
 * format and check digit that list and the issuing agency publish. Other ICDs pass on the generic POLICY 1 rules
 * only, unless the caller restricts the accepted ones (`ParticipantIdOptions.icds`).
 */
export interface IcdScheme {
  /** ISO 6523 ICD, four digits. */
  readonly icd: string;
  /** Peppol scheme id of the code list (`JP:SST`, `GLN`…). */
  readonly schemeId: string;
  readonly name: string;
  /** The value after `<ICD>:`, whole. */
  readonly pattern: RegExp;
  /** Check digit(s) right, for a value that matches `pattern`. */
  readonly checkDigit: (value: string) => boolean;
}

const digits = (s: string): number[] => [...s].map(Number);

/**
 * Japan's 法人番号 (corporate number, ICD 0188): 13 digits, the first is the check digit of the 12 after it.
 * 法人番号の指定等に関する省令 (平成26年財務省令第70号) 第2条: check = 9 − (Σ_{n=1..12} P_n × Q_n mod 9), P_n the n-th
 * digit counted from the lowest, Q_n = 1 for odd n and 2 for even n; the result is always 1..9. The same formula
 * is quoted in the Peppol code list entry for 0188. Worked example of the NTA's own number 7000012050002 in the test.
 */
export function corporateNumberCheckDigit(base12: string): number {
  const d = digits(base12);
  let sum = 0;
  for (let n = 1; n <= 12; n++) sum += d[12 - n]! * (n % 2 === 1 ? 1 : 2);
  return 9 - (sum % 9);
}

export function isCorporateNumber(value: string): boolean {
  return /^[1-9][0-9]{12}$/.test(value) && corporateNumberCheckDigit(value.slice(1)) === Number(value[0]);
}

/** GS1 mod-10 (GLN-13, ICD 0088; the code list's "mod10 (weights 1, 3)"): weights 3,1,3… from the right of the payload. */
export function isGs1Mod10(value: string): boolean {
  const d = digits(value);
  const payload = d.slice(0, -1).reverse();
  const sum = payload.reduce((acc, digit, i) => acc + digit * (i % 2 === 0 ? 3 : 1), 0);
  return (10 - (sum % 10)) % 10 === d[d.length - 1];
}

/**
 * Norwegian organisasjonsnummer (ICD 0192), Brønnøysund Register Centre: weights 3,2,7,6,5,4,3,2 on the first eight
 * digits, check = 11 − (sum mod 11), 11 → 0, 10 → the number is never issued.
 */
export function isNorwegianOrgNumber(value: string): boolean {
  const d = digits(value);
  const sum = [3, 2, 7, 6, 5, 4, 3, 2].reduce((acc, w, i) => acc + w * d[i]!, 0);
  const check = 11 - (sum % 11);
  return check !== 10 && (check === 11 ? 0 : check) === d[8];
}

/** Belgian enterprise number (ICD 0208, KBO/BCE): the last two digits are 97 − (the first eight mod 97). */
export function isBelgianEnterpriseNumber(value: string): boolean {
  return 97 - (Number(value.slice(0, 8)) % 97) === Number(value.slice(8));
}

export const ICD_SCHEMES: readonly IcdScheme[] = Object.freeze([
  {
    icd: '0188',
    schemeId: 'JP:SST',
    name: 'Corporate Number of The Social Security and Tax Number System',
    pattern: /^[1-9][0-9]{12}$/,
    checkDigit: isCorporateNumber,
  },
  {
    icd: '0088',
    schemeId: 'GLN',
    name: 'Global Location Number',
    pattern: /^[0-9]{13}$/,
    checkDigit: isGs1Mod10,
  },
  {
    icd: '0192',
    schemeId: 'NO:ORG',
    name: 'Organisasjonsnummer',
    pattern: /^[0-9]{9}$/,
    checkDigit: isNorwegianOrgNumber,
  },
  {
    icd: '0208',
    schemeId: 'BE:EN',
    name: "Numero d'entreprise / ondernemingsnummer",
    pattern: /^[01][0-9]{9}$/,
    checkDigit: isBelgianEnterpriseNumber,
  },
  // The code list gives 9925 (BE:VAT) no structure; the EU VAT number of Belgium is "BE" + the enterprise number.
  {
    icd: '9925',
    schemeId: 'BE:VAT',
    name: 'Belgium VAT number',
    pattern: /^be[01][0-9]{9}$/i,
    checkDigit: (v) => isBelgianEnterpriseNumber(v.slice(2)),
  },
]);

export function icdScheme(icd: string): IcdScheme | undefined {
  return ICD_SCHEMES.find((s) => s.icd === icd);
}
