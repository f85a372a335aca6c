import { describe, expect, it } from 'vitest';
import { duplicateIds, elementsById, indexIds, scanDocument } from './references.js';
import { descendants, NS, parseXmlStrict } from './xml.js';

describe('seal/ Id index', () => {
  it('gives what elementsById and duplicateIds give, from one walk', () => {
    const doc = parseXmlStrict(
      '<r Id="root"><a Id="x"/><b ID="x" id="y"/><c Id="z" id="z"/><d><e id="y"/><f Id="solo"/></d><g Id=""/></r>',
      'SEAL_MALFORMED',
    );
    const index = indexIds(doc);
    expect([...index.duplicates].sort()).toEqual([...duplicateIds(doc)].sort());
    expect([...index.duplicates].sort()).toEqual(['x', 'y', 'z']);
    for (const id of ['root', 'x', 'y', 'z', 'solo', 'absent']) {
      expect(index.byId.get(id) ?? [], id).toEqual(elementsById(doc, id));
    }
    expect(index.byId.get('z')).toHaveLength(1);
  });

  it('scanDocument finds the ds:Signature elements descendants finds, and the same Ids, in one walk', () => {
    const doc = parseXmlStrict(
      `<r xmlns:ds="${NS.ds}" xmlns:o="urn:other" Id="a"><ds:Signature Id="s1"><ds:Signature/></ds:Signature>` +
        '<o:Signature Id="a"/><Signature/><x><ds:Signature id="s3"/></x></r>',
      'SEAL_MALFORMED',
    );
    const scan = scanDocument(doc);
    expect(scan.signatures).toHaveLength(3);
    expect(scan.signatures).toEqual(descendants(doc, NS.ds, 'Signature'));
    expect(scan.ids.duplicates).toEqual(['a']);
    for (const id of ['a', 's1', 's3']) expect(scan.ids.byId.get(id) ?? []).toEqual(elementsById(doc, id));
  });
});
