import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import {
  configKeysWithoutUnit,
  configReferenceFile,
  configReferenceMarkdown,
  undocumentedConfigKeys,
  type SchemaSource,
} from '../../scripts/config-reference.js';
import { partlyDocumentedSchema } from '../fixtures/config-reference/partly-documented-schema.js';

/** docs/configuration.md is generated from the config schema; a schema change without `npm run docs:config` fails here. */
describe('docs/configuration.md', () => {
  let cached: string | undefined;
  const generated = () => (cached ??= configReferenceMarkdown());

  it('describes every key of the schema (a doc comment beyond @defaultValue)', () => {
    expect(
      undocumentedConfigKeys(),
      'these keys have no description: add a doc comment (what it does, its unit, what the default means)',
    ).toEqual([]);
  });

  it('names the unit of every duration and size key in its description, not only in its name', () => {
    expect(configKeysWithoutUnit()).toEqual([]);
  });

  it('is what `npm run docs:config` writes from src/config/schema.ts today', () => {
    const committed = readFileSync(configReferenceFile, 'utf8');
    expect(
      committed === generated(),
      'docs/configuration.md is stale: run `npm run docs:config` and commit it',
    ).toBe(true);
  });

  it('names each key with its type, default and the doc comment of the schema', () => {
    const row = (key: string) =>
      generated()
        .split('\n')
        .find((l) => l.startsWith(`| \`${key}\` |`));
    expect(row('relay.maxAttempts')).toMatch(
      /^\| `relay\.maxAttempts` \| integer ≥ 1 \| `300` \| Attempts to reach the peer AP/,
    );
    expect(row('http.port')).toBe(
      '| `http.port` | integer 0–65535 | `8080` | TCP port; 0 picks a free one. |',
    );
    // Same key name in two sections, each with its own description.
    expect(row('log.level')).toMatch(/\| `"info"` \| pino level: the lowest level/);
    expect(row('evidence.level')).toMatch(/XAdES baseline level/);
    // List entries and the kinds of a discriminated union.
    expect(row('apiKeys[].key')).toMatch(/string \(required\)/);
    expect(row('accounts[].credentials[] (kind: totp)')).toMatch(/TOTP/);
    // A default the schema computes is the one its doc comment names.
    expect(row('smtp.outbound.from')).toMatch(/\| `rem@<smtp\.domain>` \|/);
    // Keys of the shared P-Mode party object, documented once (src/as4/model/pmode.ts), under both sides.
    expect(row('as4.pmodes[].initiator.partyId')).toMatch(/eb:PartyId/);
    expect(row('as4.pmodes[].responder.partyId')).toMatch(/eb:PartyId/);
  });

  describe('on a schema with undocumented keys', () => {
    const source: SchemaSource = {
      schema: partlyDocumentedSchema,
      files: [
        join(
          dirname(fileURLToPath(import.meta.url)),
          '../fixtures/config-reference/partly-documented-schema.ts',
        ),
      ],
    };

    it('lists every key without a description, sections included, a @defaultValue alone not counting as one', () => {
      expect(undocumentedConfigKeys(source)).toEqual([
        'section',
        'section.bare',
        'section.onlyDefault',
        'section.list',
        'section.list[].timeoutSeconds',
      ]);
    });

    it('refuses to write the reference, naming those keys', () => {
      expect(() => configReferenceMarkdown(source)).toThrow(
        /without a description.*: section, section\.bare, section\.onlyDefault, section\.list, section\.list\[\]\.timeoutSeconds$/,
      );
    });

    it('names the duration and size keys whose description lacks their unit', () => {
      expect(configKeysWithoutUnit(source)).toEqual([
        'section.maxBodyBytes (/\\bbytes\\b/i)',
        'section.list[].timeoutSeconds (/\\bseconds?\\b/i)',
      ]);
    });
  });
});
