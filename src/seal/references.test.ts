import { describe, expect, it } from 'vitest';
import { duplicateIds, elementsById, indexIds } from './references.js';
import { parseXmlStrict } from './xml.js';

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
});
