import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Command } from 'commander';
import { describe, expect, it } from 'vitest';
import { commandFor, lazyCommands } from '../../src/cli/lazy-commands.js';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

/** The CLI loads only the module of the command it runs; the help lists the others from a table. */
describe('qerds: command modules loaded on demand', () => {
  it.each(lazyCommands.map((c) => [c.names.join(', '), c] as const))(
    'the table names %s as its module registers them, with the same descriptions',
    async (_names, command) => {
      const program = new Command();
      (await command.load())(program);
      expect(Object.fromEntries(program.commands.map((c) => [c.name(), c.description()]))).toEqual(
        command.descriptions,
      );
    },
  );

  it('has an entry for every command module of src/cli', () => {
    const modules = readdirSync(join(root, 'src', 'cli'))
      .filter((f) => f.endsWith('-command.ts'))
      .map((f) => `./${f.replace(/\.ts$/, '.js')}`);
    expect(lazyCommands.map((c) => c.module).sort()).toEqual(modules.sort());
  });

  it('takes the command from the first word, or the word after help', () => {
    expect(commandFor(['verify', '--trust', 'ca.pem', 'evidence.xml'])).toBe('verify');
    expect(commandFor(['--help'])).toBeUndefined();
    expect(commandFor(['help', 'pki'])).toBe('pki');
    expect(commandFor([])).toBeUndefined();
  });

  it('qerds --help lists every command; qerds help verify shows the options of verify', () => {
    const qerds = (...args: string[]) =>
      spawnSync(process.execPath, [join(root, 'bin/qerds.js'), ...args], {
        encoding: 'utf8',
        timeout: 120_000,
      });
    const help = qerds('--help');
    expect(help.status).toBe(0);
    for (const name of lazyCommands.flatMap((c) => c.names))
      expect(help.stdout).toMatch(new RegExp(`^\\s+${name}\\b`, 'm'));
    const verify = qerds('help', 'verify');
    expect(verify.status).toBe(0);
    expect(verify.stdout).toContain('--trust <path>');
  }, 150_000);
});
