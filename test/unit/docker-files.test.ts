import { spawnSync } from 'node:child_process';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { loadConfig } from '../../src/config/index.js';
import { readFileSync } from 'node:fs';

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
      const config = loadConfig({ file: join(root, 'docker/config', `${name}.yaml`), env: { QERDS_STORE: 'postgres' } });
      expect(config.http.host).toBe('0.0.0.0');
      expect(config.directory.participants).toHaveLength(2);
    }
  });

  it('the Dockerfile runs as a non-root user and installs production dependencies only', () => {
    const dockerfile = readFileSync(join(root, 'docker/Dockerfile'), 'utf8');
    expect(dockerfile).toMatch(/^USER node$/m);
    expect(dockerfile).toMatch(/npm prune --omit=dev|npm ci --omit=dev/);
    const services = (parseYaml(readFileSync(compose, 'utf8')) as { services: Record<string, unknown> }).services;
    expect(Object.keys(services)).toEqual(expect.arrayContaining(['postgres', 'redis', 'c2', 'c3']));
  });
});
