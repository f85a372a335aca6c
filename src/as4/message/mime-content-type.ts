import { QerdsError, type QerdsErrorCode } from '../../core/index.js';

/** A parsed MIME Content-Type: `type/subtype` lower-cased, parameter names lower-cased (RFC 2045 §5.1). */
export interface ContentTypeValue {
  readonly mediaType: string;
  readonly params: ReadonlyMap<string, string>;
}

/** RFC 2045 §5.1 token characters (RFC 7230 tchar), by char code: a table, not a regular expression run per character. */
const TOKEN_CHARS = (() => {
  const table = new Uint8Array(128);
  for (const c of "!#$%&'*+-.^_`|~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz")
    table[c.charCodeAt(0)] = 1;
  return table;
})();
const isTokenChar = (code: number): boolean => code < 128 && TOKEN_CHARS[code] === 1;

/**
 * Parse `type/subtype *(; attribute=value)` where value is a token or a quoted-string (backslash
 * escapes honoured). Anything else is a MIME error (EBMS:0007): a lax parser here is where two
 * implementations start disagreeing about the boundary or the root part.
 */
export function parseContentType(value: string, code: QerdsErrorCode = 'AS4_EBMS_0007'): ContentTypeValue {
  const fail = (why: string): never => {
    throw new QerdsError(code, `invalid Content-Type "${value.slice(0, 200)}": ${why}`);
  };
  let i = 0;
  const s = value;
  const skipWs = () => {
    while (i < s.length && (s[i] === ' ' || s[i] === '\t')) i++;
  };
  const token = (): string => {
    const start = i;
    while (i < s.length && isTokenChar(s.charCodeAt(i))) i++;
    if (i === start) fail(`token expected at ${start}`);
    return s.slice(start, i);
  };
  skipWs();
  const type = token();
  if (s[i] !== '/') fail('"/" expected');
  i++;
  const subtype = token();
  const params = new Map<string, string>();
  for (;;) {
    skipWs();
    if (i >= s.length) break;
    if (s[i] !== ';') fail(`";" expected at ${i}`);
    i++;
    skipWs();
    if (i >= s.length) break; // a trailing ";" is common and harmless
    const name = token().toLowerCase();
    skipWs();
    if (s[i] !== '=') fail(`"=" expected after ${name}`);
    i++;
    skipWs();
    let v = '';
    if (s[i] === '"') {
      i++;
      let closed = false;
      // Copied a run at a time (between escapes), not a character at a time.
      let run = i;
      while (i < s.length) {
        const c = s.charCodeAt(i);
        if (c === 0x5c /* \\ */) {
          if (i + 1 >= s.length) fail('dangling escape');
          v += s.slice(run, i) + s[i + 1];
          i += 2;
          run = i;
        } else if (c === 0x22 /* " */) {
          v += s.slice(run, i);
          i++;
          closed = true;
          break;
        } else if (c === 0x0d || c === 0x0a) {
          fail('line break in quoted-string');
        } else {
          i++;
        }
      }
      if (!closed) fail('unterminated quoted-string');
    } else {
      v = token();
    }
    if (params.has(name)) fail(`duplicate parameter ${name}`);
    params.set(name, v);
  }
  return { mediaType: `${type}/${subtype}`.toLowerCase(), params };
}

/** Quote a parameter value when it is not a token. */
export function formatParam(name: string, value: string): string {
  return [...value].every((c) => isTokenChar(c.charCodeAt(0))) && value.length > 0
    ? `${name}=${value}`
    : `${name}="${value.replace(/(["\\])/g, '\\$1')}"`;
}
