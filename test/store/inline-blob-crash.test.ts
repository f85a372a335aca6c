import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createSqliteStore, type Store } from '../../src/store/index.js';

/**
 * A small blob's bytes live only in memory from its put until its message's transaction writes them: a process
 * killed right after that commit (SIGKILL, nothing flushed or closed) must leave the bytes in the database, and
 * one put but never named must leave nothing (no row, no file). Power loss is the WAL's fsync at commit
 * (synchronous FULL, test/store/sqlite.test.ts); this is the process side of it.
 */
describe('small blobs across a killed process', () => {
  let dir: string;
  let store: Store | undefined;

  afterEach(async () => {
    await store?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('the bytes of an acknowledged message survive kill -9; a put no message named leaves nothing', async () => {
    dir = mkdtempSync(join(tmpdir(), 'qerds-inline-crash-'));
    const file = join(dir, 'qerds.sqlite');
    const blobDir = join(dir, 'blobs');
    const named = randomBytes(4000);
    const unnamed = randomBytes(3000);
    const child = spawn(
      process.execPath,
      [
        '--import',
        'tsx',
        join(import.meta.dirname, '..', 'helpers', 'inline-blob-writer.ts'),
        file,
        blobDir,
        named.toString('hex'),
        unnamed.toString('hex'),
      ],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    );
    const line = await new Promise<string>((resolve, reject) => {
      let out = '';
      child.stdout.on('data', (chunk: Buffer) => {
        out += chunk.toString('utf8');
        if (out.includes('\n')) resolve(out.trim());
      });
      child.once('exit', (code) => reject(new Error(`writer exited (${code}) before committing: ${out}`)));
    });
    const [, namedKey, unnamedKey] = line.split(' ') as [string, string, string];
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGKILL');
    await exited;

    store = createSqliteStore({ file, blobDir });
    await store.migrate();
    expect((await store.getMessage('msg-crash'))?.parts[0]?.sha256).toBe(namedKey);
    const chunks: Buffer[] = [];
    for await (const chunk of store.blobs.get(namedKey)) chunks.push(chunk as Buffer);
    expect(Buffer.concat(chunks)).toEqual(named);
    expect(await store.blobs.has(unnamedKey)).toBe(false);
    // Neither was ever a file.
    expect(existsSync(blobDir)).toBe(false);
  });
});
