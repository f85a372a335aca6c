import { createHash } from 'node:crypto';
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

  it('resolves every file the configuration names against the base dir, as docs/configuration.md says', () => {
    // Each key that names a file or directory, set to a relative path: none may stay relative (it would be read
    // from the working directory instead). `accounts[].remoteSeal.pkcs11.module` is a library for dlopen, taken as given.
    const config = loadConfig({
      env: {},
      baseDir: '/srv/ap',
      overrides: {
        store: { sqliteFile: 'f/db.sqlite', blobDir: 'f/blobs' },
        http: { tls: { cert: 'f/http.crt', key: 'f/http.key', clientCa: 'f/http-ca.pem' } },
        pki: {
          dir: 'f/pki',
          sealCert: 'f/seal.crt',
          sealKey: 'f/seal.key',
          trust: ['f/trust'],
          peppolAnchors: { network: 'test', dir: 'f/peppol' },
          trustLists: [{ path: 'f/tl.xml', signerAnchors: ['f/tl-anchors'] }],
        },
        tsa: { cert: 'f/tsa.crt', key: 'f/tsa.key' },
        directory: {
          participants: [
            {
              id: '0188:1',
              name: 'P',
              endpoint: 'https://peer.example/as4',
              apCertificate: 'f/p-ap.crt',
              apEncryptionCertificate: 'f/p-enc.crt',
              encryptionCertificate: 'f/p-e2e.crt',
              apTlsCertificate: 'f/p-tls.crt',
            },
          ],
          smp: { url: 'https://smp.example/', trust: ['f/smp-trust'] },
        },
        apiKeys: [{ key: 'k'.repeat(16), participant: '0188:2', name: 'K', deliveryCertificate: 'f/k.crt' }],
        accounts: [
          {
            participant: '0188:3',
            name: 'A',
            credentials: [{ kind: 'apiKey', keySha256: 'a'.repeat(64) }],
            deliveryCertificate: 'f/a.crt',
            remoteSeal: {
              pkcs11: { tokenLabel: 't', keyLabel: 'k', pinEnv: 'PIN' },
              certificate: 'f/remote-seal.crt',
            },
          },
        ],
        smtp: {
          tlsCert: 'f/smtp.crt',
          tlsKey: 'f/smtp.key',
          relay: { tlsCert: 'f/relay.crt', tlsKey: 'f/relay.key' },
          outbound: { host: 'mx.example', tlsCa: 'f/mx-ca.pem' },
        },
        as4: {
          encryptionCert: 'f/enc.crt',
          encryptionKey: 'f/enc.key',
          tls: { clientCert: 'f/as4.crt', clientKey: 'f/as4.key', ca: ['f/as4-ca.pem'] },
        },
      },
    });
    const named = [
      config.store.sqliteFile,
      config.store.blobDir,
      config.http.tls?.cert,
      config.http.tls?.key,
      config.http.tls?.clientCa,
      config.pki.dir,
      config.pki.sealCert,
      config.pki.sealKey,
      ...(config.pki.trust ?? []),
      config.pki.peppolAnchors?.dir,
      ...config.pki.trustLists.flatMap((l) => [l.path, ...l.signerAnchors]),
      config.tsa.cert,
      config.tsa.key,
      ...config.directory.participants.flatMap((p) => [
        p.apCertificate,
        p.apEncryptionCertificate,
        p.encryptionCertificate,
        p.apTlsCertificate,
      ]),
      ...(config.directory.smp?.trust ?? []),
      ...config.accounts.flatMap((a) => [
        a.deliveryCertificate,
        ...(a.remoteSeal ? [a.remoteSeal.certificate] : []),
      ]),
      config.smtp.tlsCert,
      config.smtp.tlsKey,
      config.smtp.relay?.tlsCert,
      config.smtp.relay?.tlsKey,
      config.smtp.outbound?.tlsCa,
      config.as4.encryptionCert,
      config.as4.encryptionKey,
      config.as4.tls.clientCert,
      config.as4.tls.clientKey,
      ...(config.as4.tls.ca ?? []),
    ];
    expect(named).toHaveLength(32);
    expect(named.filter((path) => !path?.startsWith('/srv/ap/f/'))).toEqual([]);
    // And the files the access point reads after the dev PKI defaults.
    expect(config.files.tsa.cert.path).toBe('/srv/ap/f/tsa.crt');
    expect(config.files.smtpTls.key.path).toBe('/srv/ap/f/smtp.key');
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
    // The legacy apiKeys[] entry is folded into accounts[] (IAL1, one apiKey credential), its policy kept.
    expect(config.accounts[0]).toMatchObject({
      participant: '0188:1',
      ial: 1,
      credentials: [{ kind: 'apiKey', keySha256: createHash('sha256').update('k'.repeat(16)).digest('hex') }],
      acceptance: 'required',
      consignment: 'inbox',
      notificationUrl: 'https://erp.example/hook',
    });
    expect(config.policy.acceptanceWindowSeconds).toBe(14 * 24 * 3600);
    expect(config.deprecations).toEqual([
      expect.stringMatching(/^apiKeys\[\] is deprecated: its 1 entry was read as accounts\[\]/),
    ]);
    expect(loadConfig({ env: {} }).deprecations).toEqual([]);
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
