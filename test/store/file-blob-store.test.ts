import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { afterAll, describe, expect, it } from 'vitest';
import { createFileBlobStore } from '../../src/store/file-blob-store.js';

describe('file blob store: a refused put leaves no file', () => {
  const dir = mkdtempSync(join(tmpdir(), 'qerds-blob-put-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('a source that fails at once, before the temporary file is even open: no .tmp file once put rejects', async () => {
    const store = createFileBlobStore(dir);
    // Many at once: the open of the temporary file runs on libuv's thread pool, and a removal that runs before it
    // lands (the put's cleanup) is undone when it does. Each put must have settled its file before it rejects.
    // On an idle machine the open always wins that race; CI saw it lost under load (test/attacks/rest-upload),
    // so this guards the cleanup itself, not the ordering.
    const puts = Array.from({ length: 64 }, () => {
      const source = new PassThrough();
      // The store attaches its listeners after an await (as the REST upload knows: multipart-upload.ts).
      source.on('error', () => undefined);
      const put = store.put(source);
      source.destroy(new Error('client went away'));
      return put;
    });
    const settled = await Promise.allSettled(puts);
    expect(settled.every((s) => s.status === 'rejected')).toBe(true);
    expect(readdirSync(dir).filter((name) => name.startsWith('.tmp-'))).toEqual([]);
  });
});
