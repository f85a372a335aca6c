/**
 * The first character of `value` that XML 1.0 cannot carry (§2.2 Char: #x9 | #xA | #xD | [#x20-#xD7FF] |
 * [#xE000-#xFFFD] | [#x10000-#x10FFFF]), described for an error message; undefined when every one is
 * allowed. A lone surrogate (half of a UTF-16 pair) is such a character: it has no UTF-8 form.
 */
export function xmlCharProblem(value: string): string | undefined {
  let index = 0;
  for (const char of value) {
    const cp = char.codePointAt(0)!;
    const ok =
      cp === 0x9 ||
      cp === 0xa ||
      cp === 0xd ||
      (cp >= 0x20 && cp <= 0xd7ff) ||
      (cp >= 0xe000 && cp <= 0xfffd) ||
      cp >= 0x10000;
    if (!ok)
      return `character U+${cp.toString(16).toUpperCase().padStart(4, '0')} at index ${index} is not allowed in XML 1.0`;
    index += char.length;
  }
  return undefined;
}

/** Also control characters (C0 with tab, CR and LF, DEL, C1): refused in one-line values such as a subject or an address (threat: header injection, a subject that a mail or MIME layer folds and so alters). */
export function lineTextProblem(value: string): string | undefined {
  const xml = xmlCharProblem(value);
  if (xml) return xml;
  for (let index = 0; index < value.length; index++) {
    const code = value.charCodeAt(index);
    if (code < 0x20 || (code >= 0x7f && code <= 0x9f))
      return `control character U+${code.toString(16).toUpperCase().padStart(4, '0')} at index ${index} is not allowed`;
  }
  return undefined;
}
