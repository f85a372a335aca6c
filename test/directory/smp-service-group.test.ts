import { describe, expect, it } from 'vitest';
import { isQerdsError } from '../../src/core/index.js';
import { readServiceGroupDocumentTypes } from '../../src/directory/index.js';
import { parseXmlStrict } from '../../src/xml/index.js';
import { peppolDocumentTypeMatcher } from '../../src/peppol/index.js';
import { peppolServiceGroup } from './smp-fixtures.js';

const PARTICIPANT = { scheme: 'iso6523-actorid-upis', value: '0188:5011001099999' };
const PINT_ANY = {
  scheme: 'peppol-doctype-wildcard',
  value: 'urn:oasis:names:specification:ubl:schema:xsd:Invoice-2::Invoice##urn:peppol:pint:billing-1*::2.1',
};
const BIS3 = {
  scheme: 'busdox-docid-qns',
  value:
    'urn:oasis:names:specification:ubl:schema:xsd:Invoice-2::Invoice##urn:cen.eu:en16931:2017#compliant#urn:fdc:peppol.eu:2017:poacc:billing:3.0::2.1',
};
const doc = (xml: string) => parseXmlStrict(xml, 'BAD_REQUEST');

describe('readServiceGroupDocumentTypes', () => {
  it('Peppol SMP 1.x: the document type of each reference, from the path after the participant, percent-decoded once', () => {
    // An SMP under a base path that itself contains "/services/": only the part after the participant counts.
    const xml = peppolServiceGroup('https://smp.example/services/smp', PARTICIPANT, [PINT_ANY, BIS3]);
    expect(readServiceGroupDocumentTypes(doc(xml), PARTICIPANT)).toEqual([PINT_ANY, BIS3]);
  });

  it('matches the participant in the href case-insensitively and skips references to another participant or not decodable', () => {
    const xml = peppolServiceGroup(
      'https://smp.example',
      { ...PARTICIPANT, scheme: 'ISO6523-ACTORID-UPIS' },
      [BIS3],
    ).replace(
      '</smp:ServiceMetadataReferenceCollection>',
      '<smp:ServiceMetadataReference href="https://smp.example/iso6523-actorid-upis%3A%3A0188%3A1111111111111/services/x%3A%3Ay"/><smp:ServiceMetadataReference href="https://smp.example/%E0%A4%A"/></smp:ServiceMetadataReferenceCollection>',
    );
    expect(readServiceGroupDocumentTypes(doc(xml), PARTICIPANT)).toEqual([BIS3]);
  });

  it('OASIS SMP 1.0 and SMP 2.0 service groups', () => {
    const smp1 =
      '<ServiceGroup xmlns="http://docs.oasis-open.org/bdxr/ns/SMP/2016/05"><ParticipantIdentifier scheme="iso6523-actorid-upis">0188:5011001099999</ParticipantIdentifier>' +
      `<ServiceMetadataReferenceCollection><ServiceMetadataReference href="http://smp.example/iso6523-actorid-upis%3A%3A0188%3A5011001099999/services/${encodeURIComponent(`${BIS3.scheme}::${BIS3.value}`)}"/></ServiceMetadataReferenceCollection></ServiceGroup>`;
    expect(readServiceGroupDocumentTypes(doc(smp1), PARTICIPANT)).toEqual([BIS3]);
    const smp2 =
      '<ServiceGroup xmlns="http://docs.oasis-open.org/bdxr/ns/SMP/2/ServiceGroup" xmlns:cbc="http://docs.oasis-open.org/bdxr/ns/SMP/2/BasicComponents" xmlns:cac="http://docs.oasis-open.org/bdxr/ns/SMP/2/AggregateComponents">' +
      '<cbc:SMPVersionID>2.0</cbc:SMPVersionID><cbc:ParticipantID schemeID="iso6523-actorid-upis">0188:5011001099999</cbc:ParticipantID>' +
      `<cac:ServiceReference><cbc:ID schemeID="${PINT_ANY.scheme}">${PINT_ANY.value}</cbc:ID></cac:ServiceReference></ServiceGroup>`;
    expect(readServiceGroupDocumentTypes(doc(smp2), PARTICIPANT)).toEqual([PINT_ANY]);
  });

  it('anything else is DIRECTORY_SMP_MALFORMED', () => {
    let thrown: unknown;
    try {
      readServiceGroupDocumentTypes(
        doc('<SignedServiceMetadata xmlns="http://busdox.org/serviceMetadata/publishing/1.0/"/>'),
        PARTICIPANT,
      );
    } catch (error) {
      thrown = error;
    }
    expect(isQerdsError(thrown, 'DIRECTORY_SMP_MALFORMED')).toBe(true);
  });
});

describe('peppolDocumentTypeMatcher', () => {
  const jp = {
    scheme: 'peppol-doctype-wildcard',
    value: PINT_ANY.value.replace('billing-1*', 'billing-1@jp-1'),
  };

  it('applies to the wildcard scheme only', () => {
    expect(peppolDocumentTypeMatcher.appliesTo(jp)).toBe(true);
    expect(peppolDocumentTypeMatcher.appliesTo(BIS3)).toBe(false);
  });

  it('chooses the accepting registration, skipping those it cannot parse, and none when nothing accepts', () => {
    expect(
      peppolDocumentTypeMatcher.select(jp, [
        BIS3,
        { value: 'no scheme' },
        { scheme: 'peppol-doctype-wildcard', value: 'not a doctype' },
        PINT_ANY,
      ]),
    ).toMatchObject(PINT_ANY);
    expect(peppolDocumentTypeMatcher.select(jp, [BIS3])).toBeUndefined();
    // Another version or syntax is not accepted by the billing-1* registration.
    expect(
      peppolDocumentTypeMatcher.select({ ...jp, value: jp.value.replace('::2.1', '::2.2') }, [PINT_ANY]),
    ).toBeUndefined();
  });
});
