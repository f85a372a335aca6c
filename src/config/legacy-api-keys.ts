import { createHash } from 'node:crypto';
import type { ParsedConfig } from './schema.js';

type ApiKeyEntry = ParsedConfig['apiKeys'][number];
type AccountEntry = ParsedConfig['accounts'][number];

/** The configuration without the legacy `apiKeys` list: every local participant is in `accounts`. */
export type FoldedConfig = Omit<ParsedConfig, 'apiKeys'>;

/**
 * Folds the legacy `apiKeys[]` into `accounts[]`: each entry becomes an account enrolled at IAL1 with one `apiKey`
 * credential (the SHA-256 of its key), the same participant, name, delivery and webhook settings, so it
 * authenticates and is served exactly as before. The entries come first, in their order, as they were matched
 * first before. A non-empty list yields a deprecation notice for the AP's log.
 */
export function foldLegacyApiKeys(config: ParsedConfig): {
  readonly config: FoldedConfig;
  readonly deprecations: readonly string[];
} {
  const { apiKeys, ...rest } = config;
  if (apiKeys.length === 0) return { config: rest, deprecations: [] };
  return {
    config: { ...rest, accounts: [...apiKeys.map(accountOf), ...rest.accounts] },
    deprecations: [
      `apiKeys[] is deprecated: its ${apiKeys.length} entr${apiKeys.length === 1 ? 'y was' : 'ies were'} read as accounts[] ` +
        'with an apiKey credential (keySha256: the hex SHA-256 of the key); move them to accounts[] and keep the keys out of the config',
    ],
  };
}

function accountOf({ key, ...entry }: ApiKeyEntry): AccountEntry {
  const keySha256 = createHash('sha256').update(key, 'utf8').digest('hex');
  return { ...entry, ial: 1, credentials: [{ kind: 'apiKey', keySha256 }] };
}
