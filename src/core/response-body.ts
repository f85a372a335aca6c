/**
 * The body of an HTTP response from a peer (an AP's AS4 answer, a TSA, an SMP, a CRL distribution point),
 * or `undefined` once it passes `limit` bytes: counted while it arrives and the stream cancelled then, since
 * a peer-controlled size (or a lying Content-Length) must never be buffered whole. The caller says what a
 * body too large means in its own error code.
 */
export async function readBodyAtMost(response: Response, limit: number): Promise<Buffer | undefined> {
  const reader = response.body?.getReader();
  if (!reader) return Buffer.alloc(0);
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (let part = await reader.read(); !part.done; part = await reader.read()) {
    size += part.value.byteLength;
    if (size > limit) {
      await reader.cancel().catch(() => undefined);
      return undefined;
    }
    chunks.push(part.value);
  }
  return Buffer.concat(chunks);
}
