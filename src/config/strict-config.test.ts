import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createAccessPoint } from '../access-point.js';
import { configSchema, loadConfig, type QerdsConfigInput } from './index.js';
import { devTestPki } from '../../test/helpers/pki.js';

type Node = { _zod: { def: Record<string, unknown> & { type: string } } };

/** Paths of every object in a zod schema that lets unknown keys through (no `never` catchall). */
function looseObjects(schema: Node, path = ''): string[] {
  const def = schema._zod.def as Record<string, unknown> & { type: string };
  const inner = (key: string) => looseObjects(def[key] as Node, path);
  switch (def.type) {
    case 'object': {
      const catchall = def.catchall as Node | undefined;
      const own = catchall?._zod.def.type === 'never' ? [] : [path || '(root)'];
      return [
        ...own,
        ...Object.entries(def.shape as Record<string, Node>).flatMap(([key, value]) =>
          looseObjects(value, path ? `${path}.${key}` : key),
        ),
      ];
    }
    case 'optional':
    case 'nullable':
    case 'default':
    case 'prefault':
    case 'nonoptional':
    case 'readonly':
    case 'catch':
      return inner('innerType');
    case 'array':
      return looseObjects(def.element as Node, `${path}[]`);
    case 'union':
      return (def.options as Node[]).flatMap((option) => looseObjects(option, path));
    case 'pipe':
      return [...inner('in'), ...inner('out')];
    case 'record':
      return looseObjects(def.valueType as Node, `${path}{}`);
    case 'intersection':
      return [...inner('left'), ...inner('right')];
    default:
      return [];
  }
}

const sender = { key: 'sender-key-0123456789abcdef', participant: '0188:1', name: 'Sender KK' };

describe('configuration errors name the key', () => {
  it('every object of the schema, at every level and in every list, refuses unknown keys', () => {
    expect(looseObjects(configSchema as unknown as Node)).toEqual([]);
  });

  it('a typo in a list entry is refused, naming the entry and the key', () => {
    expect(() =>
      loadConfig({
        env: {},
        overrides: { apiKeys: [{ ...sender, evidenceWebhokUrl: 'https://erp.example/hook' } as never] },
      }),
    ).toThrow(/apiKeys\.0: Unrecognized key: "evidenceWebhokUrl"/);
    expect(() =>
      loadConfig({
        env: {},
        overrides: {
          directory: {
            participants: [
              { id: '0188:2', name: 'P', endpoint: 'https://ap.example/as4', apCertifcate: 'x.pem' } as never,
            ],
          },
        },
      }),
    ).toThrow(/directory\.participants\.0: .*apCertifcate/);
    expect(() => loadConfig({ env: {}, overrides: { relay: { maxAtempts: 3 } as never } })).toThrow(
      /relay: .*maxAtempts/,
    );
  });

  it('webhook, TSA and SMP URLs must be http or https; store and queue URLs their own scheme', () => {
    for (const url of ['ftp://erp.example/hook', 'file:///etc/passwd', 'javascript:alert(1)']) {
      expect(
        () => loadConfig({ env: {}, overrides: { apiKeys: [{ ...sender, evidenceWebhookUrl: url }] } }),
        url,
      ).toThrow(/apiKeys\.0\.evidenceWebhookUrl: must be an http:\/\/ or https:\/\/ URL/);
      expect(
        () => loadConfig({ env: {}, overrides: { apiKeys: [{ ...sender, notificationUrl: url }] } }),
        url,
      ).toThrow(/apiKeys\.0\.notificationUrl/);
    }
    expect(
      loadConfig({
        env: {},
        overrides: { apiKeys: [{ ...sender, evidenceWebhookUrl: 'http://127.0.0.1:9/hook' }] },
      }).accounts[0]!.evidenceWebhookUrl,
    ).toBe('http://127.0.0.1:9/hook');
    expect(() =>
      loadConfig({ env: {}, overrides: { tsa: { mode: 'remote', url: 'ldap://tsa.example' } } }),
    ).toThrow(/tsa\.url/);
    expect(() => loadConfig({ env: { QERDS_POSTGRES_URL: 'mysql://db/qerds' } })).toThrow(
      /store\.postgresUrl/,
    );
    expect(() => loadConfig({ env: {}, overrides: { queue: { redisUrl: 'http://redis:6379' } } })).toThrow(
      /queue\.redisUrl/,
    );
  });
});

describe('files the configuration names', () => {
  const work = mkdtempSync(join(tmpdir(), 'qerds-config-files-'));
  afterAll(() => rmSync(work, { recursive: true, force: true }));

  const start = async (overrides: QerdsConfigInput) => {
    const pkiDir = join(work, 'pki');
    await devTestPki(pkiDir);
    const config = loadConfig({
      env: {},
      baseDir: work,
      overrides: {
        ...overrides,
        pki: { dir: pkiDir, ...overrides?.pki },
        store: { sqliteFile: join(work, 'db.sqlite'), blobDir: join(work, 'blobs') },
      },
    });
    return createAccessPoint(config);
  };

  it('a missing TSA certificate: CONFIG_INVALID naming tsa.cert and the path', async () => {
    const missing = join(work, 'renewed', 'tsa.crt.pem');
    await expect(start({ tsa: { cert: missing } })).rejects.toMatchObject({
      code: 'CONFIG_INVALID',
      message: `tsa.cert: ${missing} not found`,
    });
  }, 60_000);

  it('a missing trust directory: CONFIG_INVALID naming pki.trust and the path', async () => {
    const missing = join(work, 'no-such-trust-dir');
    await expect(start({ pki: { trust: [missing] } })).rejects.toMatchObject({
      code: 'CONFIG_INVALID',
      message: `pki.trust: ${missing} not found`,
    });
  }, 60_000);

  it('a dev PKI directory without the files: the key is pki.dir, and the message names the setting for another file', async () => {
    const empty = join(work, 'empty-pki');
    await expect(start({ pki: { dir: empty } })).rejects.toMatchObject({
      code: 'CONFIG_INVALID',
      message: expect.stringMatching(
        /^pki\.dir \(dev PKI ap\/c2 e-seal certificate; set pki\.sealCert for another file\): .*empty-pki.* not found \(run `qerds pki init`/,
      ),
    });
  }, 60_000);
});
