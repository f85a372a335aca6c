import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { configReferenceFile, configReferenceMarkdown } from '../../scripts/config-reference.js';

/** docs/configuration.md is generated from the config schema; a schema change without `npm run docs:config` fails here. */
describe('docs/configuration.md', () => {
  const generated = configReferenceMarkdown();

  it('is what `npm run docs:config` writes from src/config/schema.ts today', () => {
    const committed = readFileSync(configReferenceFile, 'utf8');
    expect(
      committed === generated,
      'docs/configuration.md is stale: run `npm run docs:config` and commit it',
    ).toBe(true);
  });

  it('names each key with its type, default and the doc comment of the schema', () => {
    const row = (key: string) => generated.split('\n').find((l) => l.startsWith(`| \`${key}\` |`));
    expect(row('relay.maxAttempts')).toMatch(
      /^\| `relay\.maxAttempts` \| integer ≥ 1 \| `300` \| Attempts to reach the peer AP/,
    );
    expect(row('http.port')).toBe(
      '| `http.port` | integer 0–65535 | `8080` | TCP port; 0 picks a free one. |',
    );
    // Same key name in two sections, each with its own description.
    expect(row('log.level')).toMatch(/\| `"info"` \| pino level\. \|$/);
    expect(row('evidence.level')).toMatch(/XAdES baseline level/);
    // List entries and the kinds of a discriminated union.
    expect(row('apiKeys[].key')).toMatch(/string \(required\)/);
    expect(row('accounts[].credentials[] (kind: totp)')).toMatch(/TOTP/);
    // A default the schema computes is the one its doc comment names.
    expect(row('smtp.outbound.from')).toMatch(/\| `rem@<smtp\.domain>` \|/);
  });
});
