import { spawnSync } from 'node:child_process';
import {
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { loadConfig } from '../../src/config/index.js';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const compose = join(root, 'docker/compose.yaml');

/** Docker has no engine on the build machines: the files are validated, not run. */
describe('docker/', () => {
  it('compose file validates with docker-compose config', () => {
    const result = spawnSync('docker-compose', ['-f', compose, 'config', '--quiet'], { encoding: 'utf8' });
    expect(result.error, 'docker-compose is required: apt-get install -y docker-compose').toBeUndefined();
    expect(result.status, result.stderr).toBe(0);
  });

  it('each AP config in docker/config is a valid qerds-ap configuration', () => {
    for (const name of ['c2', 'c3']) {
      const config = loadConfig({
        file: join(root, 'docker/config', `${name}.yaml`),
        env: { QERDS_STORE: 'postgres' },
      });
      expect(config.http.host).toBe('0.0.0.0');
      expect(config.directory.participants).toHaveLength(2);
    }
  });

  it('the Dockerfile runs as a non-root user and installs production dependencies only', () => {
    const dockerfile = readFileSync(join(root, 'docker/Dockerfile'), 'utf8');
    expect(dockerfile).toMatch(/^USER node$/m);
    expect(dockerfile).toMatch(/npm prune --omit=dev|npm ci --omit=dev/);
    const services = (parseYaml(readFileSync(compose, 'utf8')) as { services: Record<string, unknown> })
      .services;
    expect(Object.keys(services)).toEqual(expect.arrayContaining(['postgres', 'redis', 'c2', 'c3']));
  });
});

/**
 * The runtime stage of the Dockerfile, rebuilt without a Docker engine: `npm run build` into a temporary
 * build context, then exactly the files the runtime stage COPYs (node_modules is linked, not pruned), then
 * the image's entrypoint run from there. No src/ or test/ is present, so anything that still needs them fails.
 */
describe('docker/Dockerfile runtime stage', () => {
  const dockerfile = readFileSync(join(root, 'docker/Dockerfile'), 'utf8');
  const work = mkdtempSync(join(tmpdir(), 'qerds-image-'));
  const build = join(work, 'build');
  const app = join(work, 'app');
  afterAll(() => rmSync(work, { recursive: true, force: true }));

  /** COPY lines of the last stage: `[--from=build] source destination`. */
  function runtimeCopies(): Array<{ from?: string; source: string; destination: string }> {
    const lastStage = dockerfile.slice(dockerfile.lastIndexOf('\nFROM '));
    return [...lastStage.matchAll(/^COPY\s+(?:--from=(\S+)\s+)?(\S+)\s+(\S+)\s*$/gm)].map((m) => ({
      from: m[1],
      source: m[2]!,
      destination: m[3]!,
    }));
  }

  const entrypoint = JSON.parse(/^ENTRYPOINT (.*)$/m.exec(dockerfile)![1]!) as string[];
  const run = (args: string[], timeout: number) =>
    spawnSync(entrypoint[0]!, [...entrypoint.slice(1), ...args], {
      cwd: app,
      encoding: 'utf8',
      timeout,
      env: { ...process.env, NODE_ENV: 'production' },
    });

  it('npm run build compiles src/ alone into dist/ (no test file, nothing written outside dist)', () => {
    const untracked = () =>
      spawnSync('git', ['ls-files', '--others', '--exclude-standard', '--', 'src', 'test'], {
        cwd: root,
        encoding: 'utf8',
      }).stdout;
    const before = untracked();
    const result = spawnSync('npm', ['run', 'build', '--', '--outDir', join(build, 'dist')], {
      cwd: root,
      encoding: 'utf8',
      timeout: 240_000,
    });
    expect(result.status, result.stdout + result.stderr).toBe(0);
    expect(untracked()).toBe(before);
    expect(existsSync(join(build, 'dist/cli/main.js'))).toBe(true);
    expect(existsSync(join(build, 'dist/harness/demo.js'))).toBe(true);
    const listing = spawnSync('find', [join(build, 'dist'), '-name', '*.test.js'], {
      encoding: 'utf8',
    }).stdout;
    expect(listing).toBe('');

    mkdirSync(app);
    for (const copy of runtimeCopies()) {
      const target = join(app, copy.destination);
      mkdirSync(dirname(target), { recursive: true });
      if (copy.from === undefined)
        cpSync(join(root, copy.source), copy.destination.endsWith('/') ? join(target, copy.source) : target, {
          recursive: true,
        });
      else if (copy.source === '/app/node_modules') symlinkSync(join(root, 'node_modules'), target);
      else cpSync(join(build, copy.source.replace(/^\/app\//, '')), target, { recursive: true });
    }
    expect(existsSync(join(app, 'dist/cli/main.js'))).toBe(true);
    expect(existsSync(join(app, 'src'))).toBe(false);
  }, 300_000);

  it('dist/ imports only production dependencies (the image prunes the dev ones)', () => {
    const dependencies = new Set(
      Object.keys(
        (
          JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as {
            dependencies: Record<string, string>;
          }
        ).dependencies,
      ),
    );
    const outside: string[] = [];
    for (const file of readdirSync(join(app, 'dist'), { recursive: true }) as string[]) {
      if (!file.endsWith('.js')) continue;
      const text = readFileSync(join(app, 'dist', file), 'utf8');
      // Static imports and re-exports, bare `import 'x'`, and dynamic import('x'): bare specifiers only.
      for (const m of text.matchAll(
        /^\s*(?:import|export)\s[^;]*?from\s*['"]([^.'"][^'"]*)['"]|^\s*import\s*['"]([^.'"][^'"]*)['"]|\bimport\(\s*['"]([^.'"][^'"]*)['"]\s*\)/gm,
      )) {
        const specifier = (m[1] ?? m[2] ?? m[3])!;
        const name = specifier.startsWith('@')
          ? specifier.split('/').slice(0, 2).join('/')
          : specifier.split('/')[0]!;
        if (!name.startsWith('node:') && !dependencies.has(name)) outside.push(`${file}: ${specifier}`);
      }
    }
    expect(outside).toEqual([]);
  });

  it('the entrypoint prints the help', () => {
    const result = run(['--help'], 60_000);
    expect(result.status, result.stderr).toBe(0);
    expect(result.stdout).toMatch(/Usage: qerds/);
    expect(result.stdout).toMatch(/demo/);
  }, 120_000);

  it('the image serves its REST contract (dist/api reads schemas/openapi.yaml as copied)', () => {
    const code =
      "import { openApiHandler } from './dist/api/openapi-route.js'; openApiHandler()({}, { type() { return this; }, send(text) { process.stdout.write(text); } });";
    const result = spawnSync(process.execPath, ['--input-type=module', '-e', code], {
      cwd: app,
      encoding: 'utf8',
    });
    expect(result.status, result.stderr).toBe(0);
    expect((parseYaml(result.stdout) as { paths: Record<string, unknown> }).paths).toHaveProperty(
      '/messages',
    );
  });

  /**
   * The library face: a project that depends on the package (here linked into its node_modules, as npm
   * installs it) imports it by name, which resolves through package.json `exports` to dist/index.js and
   * its types to dist/index.d.ts. Deep imports into dist/ are refused, so the AP internals stay internal.
   */
  describe('an embedder of the package', () => {
    const embedder = join(work, 'embedder');
    const embed = `
import { createAccessPoint, loadConfig, configSchema, verifyEvidence, verifyAny } from 'qerds-ap';
const [pkiDir, dataDir] = process.argv.slice(2);
const ap = await createAccessPoint({
  http: { port: 0 },
  log: { level: 'warn' },
  pki: { dir: pkiDir },
  store: { sqliteFile: dataDir + '/qerds.sqlite', blobDir: dataDir + '/blobs' },
});
await ap.start();
const health = await fetch(ap.url + '/healthz');
const loaded = loadConfig({ env: {}, overrides: { pki: { dir: pkiDir } } });
const deep = await import('qerds-ap/dist/access-point/internals.js').then(() => 'imported', (e) => e.code);
process.stdout.write(JSON.stringify({
  health: health.status,
  members: Object.keys(ap).sort(),
  seal: ap.sealCertificate.subject,
  sealFile: loaded.files.seal.cert.path,
  functions: [configSchema.parse, verifyEvidence, verifyAny].map((f) => typeof f),
  deep,
}));
await ap.stop();
`;
    const typed = `
import { createAccessPoint, loadConfig, type AccessPoint, type QerdsConfig, type QerdsConfigInput } from 'qerds-ap';
const input: QerdsConfigInput = { http: { port: 0 }, store: { kind: 'sqlite' } };
const loaded: QerdsConfig = loadConfig({ env: {}, overrides: input });
export async function run(): Promise<string[]> {
  const fromInput: AccessPoint = await createAccessPoint(input);
  const fromLoaded: AccessPoint = await createAccessPoint(loaded);
  // @ts-expect-error the pipeline context is not part of the public AccessPoint
  void fromInput.context;
  return [fromInput.url, fromLoaded.url];
}
`;

    it('imports createAccessPoint and loadConfig by the package name and runs an AP from a config input', () => {
      mkdirSync(join(embedder, 'node_modules'), { recursive: true });
      symlinkSync(app, join(embedder, 'node_modules', 'qerds-ap'));
      writeFileSync(
        join(embedder, 'package.json'),
        JSON.stringify({ name: 'embedder', private: true, type: 'module' }),
      );
      writeFileSync(join(embedder, 'embed.mjs'), embed);
      const pkiDir = join(embedder, 'pki');
      const init = run(['pki', 'init', '--dir', pkiDir], 60_000);
      expect(init.status, init.stderr).toBe(0);
      const result = spawnSync(process.execPath, ['embed.mjs', pkiDir, join(embedder, 'data')], {
        cwd: embedder,
        encoding: 'utf8',
        timeout: 120_000,
      });
      expect(result.status, result.stderr).toBe(0);
      const out = JSON.parse(result.stdout) as Record<string, unknown>;
      expect(out.health).toBe(200);
      expect(out.members).toEqual(
        [
          'config',
          'sealCertificate',
          'as4SigningCertificate',
          'smtpAddress',
          'smtpInboundAddress',
          'smtpRelayAddress',
          'url',
          'start',
          'stop',
        ].sort(),
      );
      expect(out.seal).toMatch(/CN=/);
      expect(out.sealFile).toBe(join(pkiDir, 'c2', 'seal.crt.pem'));
      expect(out.functions).toEqual(['function', 'function', 'function']);
      expect(out.deep).toBe('ERR_PACKAGE_PATH_NOT_EXPORTED');
    }, 180_000);

    it('type-checks against the declarations the exports name (dist/index.d.ts), without the AP internals', () => {
      writeFileSync(join(embedder, 'typed.ts'), typed);
      writeFileSync(
        join(embedder, 'tsconfig.json'),
        JSON.stringify({
          compilerOptions: {
            target: 'ES2022',
            module: 'NodeNext',
            moduleResolution: 'NodeNext',
            strict: true,
            noEmit: true,
            skipLibCheck: true,
            typeRoots: [join(root, 'node_modules/@types')],
            types: ['node'],
          },
          files: ['typed.ts'],
        }),
      );
      const result = spawnSync(
        process.execPath,
        [join(root, 'node_modules/typescript/bin/tsc'), '-p', 'tsconfig.json'],
        { cwd: embedder, encoding: 'utf8', timeout: 120_000 },
      );
      expect(result.status, result.stdout + result.stderr).toBe(0);
    }, 180_000);
  });

  it('the entrypoint runs the demo (two APs, evidence chain verified offline)', () => {
    const result = run(['demo', '--timeout', '120000'], 200_000);
    expect(result.status, result.stdout + result.stderr).toBe(0);
    expect(result.stdout).toMatch(/4-ContentHandover\.xml: VALID/);
    expect(result.stdout).not.toMatch(/INVALID/);
  }, 240_000);
});
