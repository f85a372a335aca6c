import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { createSqliteStore } from '../../src/store/index.js';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

/** One SQLite store, one access point process: a second AP process opening the file is refused. */
describe('SQLite store: held by one access point process', () => {
  const work = mkdtempSync(join(tmpdir(), 'qerds-sqlite-lock-'));
  const file = join(work, 'data', 'qerds.sqlite');
  const blobDir = join(work, 'blobs');
  let child: ChildProcess | undefined;
  afterAll(() => {
    child?.kill('SIGKILL');
    rmSync(work, { recursive: true, force: true });
  });

  /**
   * Another process that opens the store as an AP does (exclusive), says "ready", and keeps it open.
   *
   * It must keep a reference to the store: better-sqlite3 closes a connection that is garbage-collected,
   * and an unreferenced lock connection's collection frees the lock. This test once saw no refusal under
   * load because its holder kept no reference (a module's top-level const is gone once the module has run)
   * and a GC came before the check. So the holder refers to the store from its timer, and collects garbage
   * before saying "ready": a holder that let go of the lock is caught on every run, not only on a busy one.
   */
  async function holder(): Promise<ChildProcess> {
    const script = join(work, 'hold.mts');
    writeFileSync(
      script,
      `import { createSqliteStore } from ${JSON.stringify(join(root, 'src/store/index.ts'))};
       const store = createSqliteStore({ file: ${JSON.stringify(file)}, blobDir: ${JSON.stringify(blobDir)}, exclusive: true });
       await store.migrate();
       setInterval(() => void store, 1000);
       setTimeout(() => {
         globalThis.gc();
         process.stdout.write('ready\\n');
       }, 0);`,
    );
    const proc = spawn(process.execPath, ['--expose-gc', '--import', 'tsx', script], {
      cwd: root,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let err = '';
    proc.stderr!.on('data', (c: Buffer) => (err += c.toString()));
    await new Promise<void>((resolveReady, reject) => {
      proc.stdout!.on('data', (c: Buffer) => c.toString().includes('ready') && resolveReady());
      proc.once('exit', (code) => reject(new Error(`holder exited (${code}): ${err}`)));
    });
    return proc;
  }

  it('refuses a second AP process with STORE_LOCKED naming the file; lets admin tools in; frees the store when the holder dies', async () => {
    child = await holder();
    let refusal: unknown;
    try {
      createSqliteStore({ file, blobDir, exclusive: true });
    } catch (error) {
      refusal = error;
    }
    expect(refusal).toMatchObject({ name: 'QerdsError', code: 'STORE_LOCKED' });
    expect((refusal as Error).message).toContain(file);
    expect((refusal as Error).message).toContain('postgres');

    // A short-lived tool (qerds dead-letters, db) does not ask for the lock and reads beside the AP.
    const tool = createSqliteStore({ file, blobDir });
    expect(await tool.listDeadLetters()).toEqual([]);
    await tool.close();

    // Killed without any cleanup: the operating system drops the lock with the process, no stale lock.
    const exited = new Promise((r) => child!.once('exit', r));
    child.kill('SIGKILL');
    await exited;
    const next = createSqliteStore({ file, blobDir, exclusive: true });
    await next.migrate();
    // Closing releases it too: a restart in the same process opens it again.
    await next.close();
    const again = createSqliteStore({ file, blobDir, exclusive: true });
    await again.close();
  }, 60_000);
});
