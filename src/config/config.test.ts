import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig } from './index.js';

describe('loadConfig', () => {
  it('runs out of the box with defaults, paths resolved against the base dir', () => {
    const config = loadConfig({ env: {}, baseDir: '/srv/ap' });
    expect(config.store.kind).toBe('sqlite');
    expect(config.store.sqliteFile).toBe('/srv/ap/data/qerds.sqlite');
    expect(config.http.port).toBe(8080);
    expect(config.tsa.mode).toBe('embedded');
  });

  it('layers file < env < overrides', () => {
    const dir = mkdtempSync(join(tmpdir(), 'qerds-config-'));
    const file = join(dir, 'ap.yaml');
    writeFileSync(file, 'http:\n  port: 9000\nap:\n  name: From File\nstore:\n  blobDir: blobs\n');
    const config = loadConfig({
      file,
      env: { QERDS__AP__NAME: 'From Env', QERDS_STORE: 'postgres' },
      overrides: { http: { port: 9100 } },
    });
    expect(config.ap.name).toBe('From Env');
    expect(config.store.kind).toBe('postgres');
    expect(config.http.port).toBe(9100);
    expect(config.store.blobDir).toBe(join(dir, 'blobs'));
  });

  it('names the key of a bad value', () => {
    expect(() => loadConfig({ env: { QERDS_PORT: 'eighty' } })).toThrow(/http\.port/);
    expect(() => loadConfig({ env: {}, overrides: { store: { kind: 'mysql' as 'sqlite' } } })).toThrow(
      /store\.kind/,
    );
  });

  it('keeps the SMTP relay listener off unless configured; configured, it has defaults and its TLS files resolve against the base dir', () => {
    expect(loadConfig({ env: {}, baseDir: '/srv/ap' }).smtp.relay).toBeUndefined();
    const relay = loadConfig({
      env: {},
      baseDir: '/srv/ap',
      overrides: { smtp: { relay: { tlsCert: 'certs/relay.pem', tlsKey: '/keys/relay.key' } } },
    }).smtp.relay;
    expect(relay).toEqual({
      host: '127.0.0.1',
      port: 25,
      tlsCert: '/srv/ap/certs/relay.pem',
      tlsKey: '/keys/relay.key',
    });
    expect(() => loadConfig({ env: {}, overrides: { smtp: { relay: { port: 70000 } } } })).toThrow(
      /smtp\.relay\.port/,
    );
  });

  it('refuses unknown keys instead of ignoring a typo', () => {
    const dir = mkdtempSync(join(tmpdir(), 'qerds-config-'));
    const file = join(dir, 'ap.yaml');
    writeFileSync(file, 'htttp:\n  port: 1\n');
    expect(() => loadConfig({ file, env: {} })).toThrow(/htttp/);
    expect(() => loadConfig({ env: { QERDS__HTTP__PROT: '1' } })).toThrow(/PROT/);
  });

  it('gives recipients the plain inbox unless their entry sets a consignment policy, and names a bad one', () => {
    const config = loadConfig({
      env: {},
      overrides: {
        apiKeys: [
          {
            key: 'k'.repeat(16),
            participant: '0188:1',
            name: 'R',
            acceptance: 'required',
            notificationUrl: 'https://erp.example/hook',
          },
        ],
      },
    });
    expect(config.apiKeys[0]).toMatchObject({
      acceptance: 'required',
      consignment: 'inbox',
      notificationUrl: 'https://erp.example/hook',
    });
    expect(config.policy.acceptanceWindowSeconds).toBe(14 * 24 * 3600);
    expect(() =>
      loadConfig({
        env: {},
        overrides: {
          apiKeys: [
            { key: 'k'.repeat(16), participant: '0188:1', name: 'R', acceptance: 'maybe' as 'required' },
          ],
        },
      }),
    ).toThrow(/apiKeys\.0\.acceptance/);
    expect(() =>
      loadConfig({
        env: {},
        overrides: {
          apiKeys: [{ key: 'k'.repeat(16), participant: '0188:1', name: 'R', notificationUrl: 'not a url' }],
        },
      }),
    ).toThrow(/apiKeys\.0\.notificationUrl/);
  });

  it('rejects a short API key', () => {
    expect(() =>
      loadConfig({ env: {}, overrides: { apiKeys: [{ key: 'short', participant: '0188:1', name: 'x' }] } }),
    ).toThrow(/apiKeys\.0\.key/);
  });
});
