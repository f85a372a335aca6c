import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname } from 'node:path';
import { compileFunction } from 'node:vm';
import { DOMParser } from '@xmldom/xmldom';

/*
 * @xmldom/xmldom 0.8's parser (lib/sax.js) asks, for every start tag that is not self-closed, whether an end tag
 * of that name follows (`fixSelfClosed`: an element without one is taken as self-closed, with the warning
 * parseXmlStrict turns into a refusal). It answers with `source.lastIndexOf('</' + tagName + '>')`, a backward
 * scan from the end of the document, once per distinct tag name per parse: a 16 KB evidence with ~40 names scans
 * ~0.5 MB (a quarter of a seal verification's parse), and a hostile document with many distinct names scans its
 * whole length for each (quadratic). xmldom 0.9 drops the function (a stack of open tags instead), but changes the
 * parser's API and error reporting for every caller.
 *
 * Here the one `lastIndexOf('</' + tagName + '>')` of fixSelfClosed is answered from an index of the document's
 * end tags, built in one linear pass on the first question of a parse: end-tag text → position of its last
 * occurrence. The answer is the same number for every document: the tag name of a start tag matches xmldom's
 * `tagNamePattern` (setTagName refuses any other), so it holds no `<`, `/`, `>` or character ≤ U+0020, and
 * `</name>` occurs at p exactly when the scan from p + 2 over such characters stops at a `>` with `name` in
 * between. The scan stops at the next `<` at the latest, so the pass is linear. The rest of fixSelfClosed (its
 * fallback search, its per-parse cache) and the rest of xmldom are xmldom's own, evaluated from the installed
 * package, so xmldom's fixes in later 0.8 releases still apply. When the installed sax.js no longer has the line
 * this replaces, xmldom's own DOMParser is used (`linearEndTagsApplied()` is false; a test in xml.test.ts
 * fails so that someone looks).
 */

const ORIGINAL_LINE = "pos =  source.lastIndexOf('</'+tagName+'>')";
const PATCHED_LINE = 'pos = __qerdsLastEndTag(source,tagName,closeMap)';
const INDEX_FUNCTION = `
var __qerdsEndTagIndex = Symbol('qerds end-tag index');
function __qerdsLastEndTag(source, tagName, closeMap) {
	var index = closeMap[__qerdsEndTagIndex];
	if (!index) {
		index = new Map();
		for (var p = source.indexOf('</'); p >= 0; p = source.indexOf('</', p + 2)) {
			var q = p + 2;
			var c = source.charCodeAt(q);
			while (c !== 62 && c !== 60 && c !== 47 && c > 32) c = source.charCodeAt(++q);
			if (c === 62) index.set(source.slice(p + 2, q), p);
		}
		closeMap[__qerdsEndTagIndex] = index;
	}
	var at = index.get(tagName);
	return at === undefined ? -1 : at;
}
`;

interface Loaded {
  readonly DOMParser: typeof DOMParser;
  readonly applied: boolean;
}
let loaded: Loaded | undefined;

/** Evaluate one CommonJS file of xmldom with its own `require`, `overrides` answering some of its requires. */
function evaluate(file: string, source: string, overrides: Record<string, unknown>): Record<string, unknown> {
  const module = { exports: {} as Record<string, unknown> };
  const own = createRequire(file);
  const req = (id: string): unknown => (id in overrides ? overrides[id] : own(id));
  const wrapper = compileFunction(source, ['exports', 'require', 'module', '__filename', '__dirname'], {
    filename: file,
  });
  wrapper(module.exports, req, module, file, dirname(file));
  return module.exports;
}

function load(): Loaded {
  const require = createRequire(import.meta.url);
  try {
    const saxFile = require.resolve('@xmldom/xmldom/lib/sax.js');
    const parserFile = require.resolve('@xmldom/xmldom/lib/dom-parser.js');
    const sax = readFileSync(saxFile, 'utf8');
    // The line, once, inside fixSelfClosed (up to the next function).
    const fn = sax.indexOf('function fixSelfClosed(source,elStartEnd,tagName,closeMap){');
    const at = sax.indexOf(ORIGINAL_LINE);
    const fnEnd = sax.indexOf('\nfunction ', fn + 1);
    if (fn < 0 || at < fn || (fnEnd >= 0 && at > fnEnd) || sax.indexOf(ORIGINAL_LINE, at + 1) >= 0)
      return { DOMParser, applied: false };
    const patched = sax.slice(0, at) + PATCHED_LINE + sax.slice(at + ORIGINAL_LINE.length) + INDEX_FUNCTION;
    const saxExports = evaluate(saxFile, patched, {});
    // dom-parser.js with the patched reader; its DOM (dom.js, entities.js) is the package's, shared with
    // xmldom's own DOMParser and with xml-crypto, so nodes are of the same classes either way.
    const parser = evaluate(parserFile, readFileSync(parserFile, 'utf8'), { './sax': saxExports });
    return { DOMParser: parser.DOMParser as typeof DOMParser, applied: true };
  } catch {
    return { DOMParser, applied: false };
  }
}

/** xmldom's DOMParser with linear end-tag look-ups (see the file comment); xmldom's own when the change does not apply. */
export function linearDomParser(): typeof DOMParser {
  loaded ??= load();
  return loaded.DOMParser;
}

/** Whether linearDomParser() is the changed parser (for the test that notices an xmldom release without the line). */
export function linearEndTagsApplied(): boolean {
  loaded ??= load();
  return loaded.applied;
}
