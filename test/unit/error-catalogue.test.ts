import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, expectTypeOf, it } from 'vitest';
import { accessPointErrors } from '../../src/access-point/errors.js';
import { apiErrors } from '../../src/api/errors.js';
import { as4Errors } from '../../src/as4/index.js';
import { ebmsCodeOf, ebmsErrors } from '../../src/as4/model/ebms-errors.js';
import {
  coreErrors,
  QerdsError,
  type ErrorCatalogueEntry,
  type QerdsErrorCode,
} from '../../src/core/index.js';
import { cryptoErrors } from '../../src/crypto/index.js';
import { directoryErrors } from '../../src/directory/index.js';
import { evidenceErrors } from '../../src/evidence/index.js';
import { peppolErrors } from '../../src/peppol/index.js';
import { pipelineErrors } from '../../src/pipeline/index.js';
import { pkiErrors } from '../../src/pki/index.js';
import { sealErrors } from '../../src/seal/index.js';
import { smtpErrors } from '../../src/smtp/index.js';
import { storeErrors } from '../../src/store/index.js';
import { timestampErrors } from '../../src/timestamp/index.js';
import { trustListErrors } from '../../src/trust-list/index.js';

/**
 * The module catalogues against the codes the code base throws. The union `QerdsErrorCode` is built from the
 * catalogues' types (core/errors.ts); this file reads the catalogues themselves: each entry says how the HTTP
 * edge answers it, and a code thrown in src/ as a literal without an entry fails here.
 */
const src = resolve(dirname(fileURLToPath(import.meta.url)), '../../src');
const catalogues: Readonly<Record<string, Readonly<Record<string, ErrorCatalogueEntry>>>> = {
  accessPoint: accessPointErrors,
  api: apiErrors,
  as4: as4Errors,
  core: coreErrors,
  crypto: cryptoErrors,
  directory: directoryErrors,
  evidence: evidenceErrors,
  seal: sealErrors,
  smtp: smtpErrors,
  peppol: peppolErrors,
  pipeline: pipelineErrors,
  pki: pkiErrors,
  store: storeErrors,
  timestamp: timestampErrors,
  trustList: trustListErrors,
};
const catalogued = new Set(Object.values(catalogues).flatMap((c) => Object.keys(c)));
const isCatalogued = (code: string) => catalogued.has(code) || ebmsCodeOf(code) !== undefined;

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return sourceFiles(path);
    return name.endsWith('.ts') && !name.endsWith('.test.ts') ? [path] : [];
  });
}

/** Code → files, for every `new QerdsError('CODE', …)` with a literal code in src/. */
function thrownCodes(): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const file of sourceFiles(src)) {
    for (const m of readFileSync(file, 'utf8').matchAll(/new QerdsError\(\s*'([A-Z][A-Z0-9_]*)'/g)) {
      out.set(m[1]!, [...(out.get(m[1]!) ?? []), relative(src, file)]);
    }
  }
  return out;
}

describe('error catalogues', () => {
  it('give every entry a text, an HTTP status for the REST edge and a retry hint', () => {
    for (const [module, catalogue] of Object.entries(catalogues)) {
      for (const [code, entry] of Object.entries(catalogue)) {
        expect(entry.text.length, `${module} ${code}`).toBeGreaterThan(0);
        expect(
          Number.isInteger(entry.httpStatus) && entry.httpStatus >= 400 && entry.httpStatus <= 599,
          `${module} ${code} status ${entry.httpStatus}`,
        ).toBe(true);
        expect(typeof entry.retryable, `${module} ${code}`).toBe('boolean');
      }
    }
    for (const def of ebmsErrors.values()) expect(def.shortDescription.length).toBeGreaterThan(0);
  });

  it('spell each code in one catalogue only', () => {
    const all = Object.values(catalogues).flatMap((c) => Object.keys(c));
    expect(all.length).toBe(catalogued.size);
  });

  it('list every code thrown in src/', () => {
    const thrown = thrownCodes();
    expect(thrown.size).toBeGreaterThan(50);
    const uncatalogued = [...thrown.keys()].filter((code) => !isCatalogued(code));
    expect(uncatalogued.map((code) => `${code} (${thrown.get(code)!.join(', ')})`)).toEqual([]);
  });

  it('make the union of codes from the catalogues (checked by tsc)', () => {
    expectTypeOf<'CRYPTO_MALFORMED'>().toExtend<QerdsErrorCode>();
    expectTypeOf<'SMTP_AUTH_FAILED'>().toExtend<QerdsErrorCode>();
    expectTypeOf<'AS4_EBMS_0101'>().toExtend<QerdsErrorCode>();
    expectTypeOf<'NOT_A_CATALOGUED_CODE'>().not.toExtend<QerdsErrorCode>();
    // @ts-expect-error: a QerdsError takes catalogued codes only
    expect(new QerdsError('NOT_A_CATALOGUED_CODE', 'refused by tsc').code).toBe('NOT_A_CATALOGUED_CODE');
    expect(isCatalogued('AS4_EBMS_0101')).toBe(true);
    expect(isCatalogued('NOT_A_CATALOGUED_CODE')).toBe(false);
  });
});
