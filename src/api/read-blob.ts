import type { PipelineContext } from '../pipeline/index.js';

/** A whole blob in memory: only for parts whose size the caller has bounded (sealed XML, a detached signature). */
export async function readBlob(ctx: PipelineContext, sha256: string): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of ctx.store.blobs.get(sha256)) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}
