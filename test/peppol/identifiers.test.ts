import { describe, expect, it } from 'vitest';
import { isQerdsError } from '../../src/core/errors.js';
import {
  corporateNumberCheckDigit,
  DOCTYPE_SCHEME_BUSDOX,
  DOCTYPE_SCHEME_WILDCARD,
  formatIdentifier,
  isCorporateNumber,
  isIso3166Alpha2,
  ISO_3166_ALPHA2,
  jpPintDocumentType,
  normaliseRecipient,
  parseDocumentTypeId,
  parseParticipantId,
  parseProcessId,
  registrationAccepts,
  sameParticipant,
  selectRegistration,
} from '../../src/peppol/index.js';

const code = (fn: () => unknown): string | undefined => {
  try {
    fn();
    return undefined;
  } catch (e) {
    return isQerdsError(e) ? e.code : String(e);
  }
};

describe('Japanese corporate number (法人番号) check digit', () => {
  it('reproduces the check digit of real published corporate numbers', () => {
    // National Tax Agency (国税庁) 7000012050002; Japan Federation of Certified Public Tax Accountants' Associations
    // (日本税理士会連合会) 7010705000725, as Wikipedia's 法人番号 article shows it; FoundingBase 4011001098993 and
    // 2120901007402 from the pages quoted in the report.
    for (const n of ['7000012050002', '7010705000725', '4011001098993', '2120901007402']) {
      expect(corporateNumberCheckDigit(n.slice(1)), n).toBe(Number(n[0]));
      expect(isCorporateNumber(n)).toBe(true);
    }
  });

  it('works the NTA number by hand: Σ P_n·Q_n of 000012050002 from the lowest digit', () => {
    // digits from the lowest: 2,0,0,0,5,0,2,1,0,0,0,0 with weights 1,2,1,2,…  → 2+0+0+0+5+0+2+2 = 11; 9 − 11 mod 9 = 7
    expect(corporateNumberCheckDigit('000012050002')).toBe(7);
  });

  it('refuses a wrong check digit, a transposition and a leading zero', () => {
    expect(isCorporateNumber('6000012050002')).toBe(false);
    expect(isCorporateNumber('7000012500002')).toBe(false);
    expect(isCorporateNumber('0000012050002')).toBe(false);
  });
});

describe('participant identifiers', () => {
  it('parses the full and the short form of a Japanese participant', () => {
    const full = parseParticipantId('iso6523-actorid-upis::0188:7000012050002');
    expect(full).toMatchObject({ scheme: 'iso6523-actorid-upis', icd: '0188', id: '7000012050002' });
    expect(formatIdentifier(parseParticipantId('0188:7000012050002'))).toBe(
      'iso6523-actorid-upis::0188:7000012050002',
    );
  });

  it('normalises a recipient named by its corporate number alone', () => {
    expect(formatIdentifier(normaliseRecipient(' 7000012050002 '))).toBe(
      'iso6523-actorid-upis::0188:7000012050002',
    );
    expect(code(() => normaliseRecipient('7000012050003'))).toBe('PEPPOL_PARTICIPANT_ID_INVALID');
  });

  it('checks the ICDs it knows: 0088 GLN, 0192 NO:ORG, 0208 BE:EN, 9925 BE:VAT', () => {
    // Examples of the Peppol code list v9.7 (GLN 1548079098355, NO:ORG 745707327), GS1's example GLN, Brønnøysund's
    // worked example 123456785, the Flemish government's worked example enterprise number 0566.988.259.
    for (const ok of [
      '0088:1548079098355',
      '0088:0614141000012',
      '0192:745707327',
      '0192:123456785',
      '0208:0566988259',
      '9925:BE0566988259',
      '9925:be0566988259',
    ]) {
      expect(
        code(() => parseParticipantId(ok)),
        ok,
      ).toBeUndefined();
    }
    for (const bad of [
      '0088:1548079098356',
      '0088:154807909835',
      '0192:745707328',
      '0208:0566988258',
      '0208:2566988259',
      '9925:0566988259',
    ]) {
      expect(
        code(() => parseParticipantId(bad)),
        bad,
      ).toBe('PEPPOL_PARTICIPANT_ID_INVALID');
    }
  });

  it('applies POLICY 1 to ICDs it does not check, and the caller may narrow the ICDs', () => {
    expect(code(() => parseParticipantId('9915:test'))).toBeUndefined();
    expect(code(() => parseParticipantId('9915:te st'))).toBe('PEPPOL_PARTICIPANT_ID_INVALID');
    expect(code(() => parseParticipantId('991:test'))).toBe('PEPPOL_PARTICIPANT_ID_INVALID');
    expect(code(() => parseParticipantId(`9915:${'a'.repeat(131)}`))).toBe('PEPPOL_PARTICIPANT_ID_INVALID');
    expect(code(() => parseParticipantId('other-scheme-x::9915:test'))).toBe('PEPPOL_PARTICIPANT_ID_INVALID');
    expect(code(() => parseParticipantId('9915:test', { icds: ['0188'] }))).toBe(
      'PEPPOL_PARTICIPANT_ID_INVALID',
    );
  });

  it('compares participant values case-insensitively and schemes exactly (POLICY 2)', () => {
    const a = parseParticipantId('9925:BE0566988259');
    const b = parseParticipantId('iso6523-actorid-upis::9925:be0566988259');
    expect(sameParticipant(a, b)).toBe(true);
    expect(sameParticipant(a, { scheme: 'ISO6523-ACTORID-UPIS', value: a.value })).toBe(false);
    expect(sameParticipant(a, parseParticipantId('0208:0566988259'))).toBe(false);
  });
});

describe('document type and process identifiers', () => {
  const jp =
    'urn:oasis:names:specification:ubl:schema:xsd:Invoice-2::Invoice##urn:peppol:pint:billing-1@jp-1::2.1';

  it('splits a JP PINT document type and picks the wildcard scheme for PINT', () => {
    const d = parseDocumentTypeId(jp);
    expect(d).toMatchObject({
      scheme: DOCTYPE_SCHEME_WILDCARD,
      syntax: 'urn:oasis:names:specification:ubl:schema:xsd:Invoice-2::Invoice',
      customization: 'urn:peppol:pint:billing-1@jp-1',
      version: '2.1',
    });
    expect(formatIdentifier(jpPintDocumentType('Invoice'))).toBe(`peppol-doctype-wildcard::${jp}`);
    expect(parseDocumentTypeId(`peppol-doctype-wildcard::${jp}`).value).toBe(jp);
    const bis = parseDocumentTypeId(
      'urn:oasis:names:specification:ubl:schema:xsd:Invoice-2::Invoice##urn:cen.eu:en16931:2017#compliant#urn:fdc:peppol.eu:2017:poacc:billing:3.0::2.1',
    );
    expect(bis.scheme).toBe(DOCTYPE_SCHEME_BUSDOX);
  });

  it('refuses malformed document types and misplaced wildcards', () => {
    expect(code(() => parseDocumentTypeId('urn:x::Invoice'))).toBe('PEPPOL_DOCTYPE_ID_INVALID');
    expect(code(() => parseDocumentTypeId('busdox-docid-qns::urn:x::Invoice##urn:a*::2.1'))).toBe(
      'PEPPOL_DOCTYPE_ID_INVALID',
    );
    expect(code(() => parseDocumentTypeId('peppol-doctype-wildcard::urn:x::Invoice##urn:a*@b::2.1'))).toBe(
      'PEPPOL_DOCTYPE_ID_INVALID',
    );
    expect(code(() => parseDocumentTypeId('peppol-doctype-wildcard::urn:x::Invoice##urn:a b::2.1'))).toBe(
      'PEPPOL_DOCTYPE_ID_INVALID',
    );
    expect(
      code(() => parseDocumentTypeId('peppol-doctype-wildcard::urn:x::Invoice##urn:a@b*::2.1')),
    ).toBeUndefined();
  });

  it('matches wildcard registrations only at @ boundaries, with the same syntax and version', () => {
    const doc = parseDocumentTypeId(jp);
    const reg = (c: string, v = '2.1', root = 'Invoice-2::Invoice') =>
      parseDocumentTypeId(
        `peppol-doctype-wildcard::urn:oasis:names:specification:ubl:schema:xsd:${root}##${c}::${v}`,
      );
    expect(registrationAccepts(reg('urn:peppol:pint:billing-1*'), doc)).toBe(true);
    expect(registrationAccepts(reg('urn:peppol:pint:billing-1@jp-1*'), doc)).toBe(true);
    expect(registrationAccepts(reg('urn:peppol:pint:billing-1@jp-1'), doc)).toBe(true);
    expect(registrationAccepts(reg('urn:peppol:pint:billing-1@jp-1@x*'), doc)).toBe(false);
    expect(registrationAccepts(reg('urn:peppol:pint:billing-*'), doc)).toBe(false);
    expect(registrationAccepts(reg('urn:peppol:pint:billing-1'), doc)).toBe(false);
    expect(registrationAccepts(reg('urn:peppol:pint:billing-1*', '2.2'), doc)).toBe(false);
    expect(
      registrationAccepts(reg('urn:peppol:pint:billing-1*', '2.1', 'CreditNote-2::CreditNote'), doc),
    ).toBe(false);
    expect(
      registrationAccepts(
        reg('urn:peppol:pint:billing-1*'),
        parseDocumentTypeId(jp.replace('billing-1@jp-1', 'billing-10')),
      ),
    ).toBe(false);
    const busdox = parseDocumentTypeId(`busdox-docid-qns::${jp}`);
    expect(registrationAccepts(reg('urn:peppol:pint:billing-1*'), busdox)).toBe(false);
  });

  it('selects the most specific registration: exact, then the longest wildcard base', () => {
    const doc = parseDocumentTypeId(jp);
    const base = parseDocumentTypeId(
      `peppol-doctype-wildcard::${jp.replace('billing-1@jp-1', 'billing-1*')}`,
    );
    const jpStar = parseDocumentTypeId(
      `peppol-doctype-wildcard::${jp.replace('billing-1@jp-1', 'billing-1@jp-1*')}`,
    );
    expect(selectRegistration([base, jpStar], doc)).toBe(jpStar);
    expect(selectRegistration([base], doc)).toBe(base);
    expect(selectRegistration([jpStar, doc], doc)).toBe(doc);
    expect(selectRegistration([], doc)).toBeUndefined();
  });

  it('parses process identifiers with the default scheme', () => {
    expect(parseProcessId('urn:peppol:bis:billing')).toEqual({
      scheme: 'cenbii-procid-ubl',
      value: 'urn:peppol:bis:billing',
    });
    expect(parseProcessId('cenbii-procid-ubl::urn:peppol:bis:billing').value).toBe('urn:peppol:bis:billing');
    expect(code(() => parseProcessId('urn:peppol:bis: billing'))).toBe('PEPPOL_PROCESS_ID_INVALID');
  });
});

describe('ISO 3166-1 alpha-2 list', () => {
  it('has the 249 assigned codes, each a region Node (ICU) can name, and no user-assigned code', () => {
    expect(ISO_3166_ALPHA2.size).toBe(249);
    const names = new Intl.DisplayNames(['en'], { type: 'region' });
    for (const code of ISO_3166_ALPHA2) expect(names.of(code), code).not.toBe(code);
    for (const code of ['XI', 'XK', 'ZZ', 'EU', 'EL', '1A']) expect(isIso3166Alpha2(code), code).toBe(false);
    expect(isIso3166Alpha2('XI', ['XI'])).toBe(true);
  });
});
