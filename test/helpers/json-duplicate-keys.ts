/**
 * The keys that occur more than once in one object of a JSON text, at any depth ("a.b" for a nested one).
 * JSON.parse keeps the last of two equal keys without a word, so a log line that names a field twice
 * (a child logger's binding and the call's own field) can only be seen in the raw text: this scans it.
 * The text must be valid JSON (parse it too); a string's escapes are decoded before keys are compared.
 */
export function duplicateKeys(text: string): string[] {
  const found: string[] = [];
  // One entry per open object or array: the keys seen so far (objects) and the path to it.
  const open: { keys?: Set<string>; path: string; pending?: string }[] = [];
  let i = 0;
  const readString = (): string => {
    const start = i;
    for (i += 1; text[i] !== '"'; i += 1) if (text[i] === '\\') i += 1;
    i += 1;
    return JSON.parse(text.slice(start, i)) as string;
  };
  while (i < text.length) {
    const c = text[i]!;
    const top = open[open.length - 1];
    if (c === '"') {
      const value = readString();
      let j = i;
      while (/\s/.test(text[j] ?? '')) j += 1;
      if (text[j] === ':' && top?.keys) {
        if (top.keys.has(value)) found.push(top.path ? `${top.path}.${value}` : value);
        top.keys.add(value);
        top.pending = value;
      }
      continue;
    }
    if (c === '{' || c === '[') {
      const path =
        top?.pending === undefined
          ? (top?.path ?? '')
          : top.path
            ? `${top.path}.${top.pending}`
            : top.pending;
      open.push(c === '{' ? { keys: new Set(), path } : { path });
    } else if (c === '}' || c === ']') open.pop();
    i += 1;
  }
  return found;
}
