import { describe, expect, it } from 'vitest';
import { formatParam, parseContentType } from './mime-content-type.js';

/** RFC 7230 tchar, written out independently of the parser's table. */
const TCHAR = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]$/;

describe('parseContentType: token characters', () => {
  it('takes a one-character parameter value exactly when it is a token character (every code up to U+02FF, and a surrogate)', () => {
    const codes = [...Array.from({ length: 0x300 }, (_, i) => i), 0xd83d];
    for (const code of codes) {
      const c = String.fromCharCode(code);
      let accepted: boolean;
      try {
        accepted = parseContentType(`text/plain; a=${c}`).params.get('a') === c;
      } catch {
        accepted = false;
      }
      expect(accepted, `U+${code.toString(16).padStart(4, '0')}`).toBe(TCHAR.test(c));
    }
  });

  it('reads type, subtype and parameter names as tokens, refusing anything else', () => {
    expect(parseContentType('Multipart/Related; Type="application/soap+xml"; start="<x@y>"').mediaType).toBe(
      'multipart/related',
    );
    expect(() => parseContentType('multipart/related; start=<x@y>')).toThrow(/token expected/);
    expect(() => parseContentType('text/pla{in')).toThrow(/";" expected/);
    expect(() => parseContentType('té/plain')).toThrow(/"\/" expected/);
    expect(() => parseContentType('text/plain; na me=1')).toThrow(/"=" expected/);
  });

  it('reads quoted-strings with their escapes, and refuses a dangling escape, a line break or a missing close quote', () => {
    const params = parseContentType(
      'multipart/related; boundary="a\\"b\\\\c"; type="application/soap+xml"; start="<x@y>"; e=""; f="\\q"',
    ).params;
    expect(params.get('boundary')).toBe('a"b\\c');
    expect(params.get('type')).toBe('application/soap+xml');
    expect(params.get('start')).toBe('<x@y>');
    expect(params.get('e')).toBe('');
    expect(params.get('f')).toBe('q');
    expect(() => parseContentType('text/plain; a="b\\')).toThrow(/dangling escape/);
    expect(() => parseContentType('text/plain; a="b\r\nc"')).toThrow(/line break/);
    expect(() => parseContentType('text/plain; a="b\nc"')).toThrow(/line break/);
    expect(() => parseContentType('text/plain; a="bc')).toThrow(/unterminated/);
    expect(() => parseContentType('text/plain; a="b"; a=c')).toThrow(/duplicate parameter a/);
  });

  it('formatParam quotes exactly the values that are not tokens', () => {
    expect(formatParam('a', 'b.c-d')).toBe('a=b.c-d');
    expect(formatParam('a', 'b c')).toBe('a="b c"');
    expect(formatParam('a', '<x@y>')).toBe('a="<x@y>"');
    expect(formatParam('a', 'é')).toBe('a="é"');
    expect(formatParam('a', '')).toBe('a=""');
  });
});
