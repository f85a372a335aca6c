import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { QerdsError } from '../core/errors.js';
import { concurrencyLimit, runBounded, type ProcessOutcome } from './bounded-process.js';

/** The OASIS UBL 2.1 runtime schemas shipped with qerds-ap (`schemas/ubl-2.1/xsdrt`, from src/ and dist/ alike). */
export const UBL_21_SCHEMA_DIR = fileURLToPath(new URL('../../schemas/ubl-2.1/xsdrt/', import.meta.url));

export interface UblXsdOptions {
  /** The xmllint command (libxml2-utils). @defaultValue 'xmllint' */
  readonly xmllint?: string;
  /** A directory laid out like the UBL 2.1 release's `xsdrt` (`maindoc/UBL-Invoice-2.1.xsd`…). */
  readonly schemaDir?: string;
  /** Time one validation may take, in ms. @defaultValue 20000 */
  readonly timeoutMs?: number;
  /** xmllint processes at once. @defaultValue 4 */
  readonly maxConcurrent?: number;
}

/** The outcome of one XSD validation: valid, or the first errors xmllint named (line and message). */
export type UblXsdResult =
  | { readonly valid: true; readonly ms: number }
  | { readonly valid: false; readonly errors: readonly UblXsdError[]; readonly ms: number };

export interface UblXsdError {
  /** Line in the submitted document, when xmllint gives one. */
  readonly line?: number;
  readonly message: string;
}

export interface UblXsdCheck {
  /** Validates one UBL 2.1 Invoice or CreditNote (its root decides the schema); rejects with PEPPOL_VALIDATOR_FAILED when xmllint cannot give a verdict. */
  validate(root: 'Invoice' | 'CreditNote', document: Buffer): Promise<UblXsdResult>;
  /** Start-up check: xmllint runs and compiles both schemas; throws PEPPOL_VALIDATOR_UNAVAILABLE naming what is missing. */
  selfTest(): Promise<void>;
}

const MAX_OUTPUT = 256 * 1024;
const MAX_ERRORS = 5;

/**
 * XML Schema validation of UBL 2.1 documents by xmllint (libxml2) in a subprocess: Node has no XSD validator of its
 * own. The document travels on stdin; `--nonet` keeps libxml2 off the network (the schemas import each other by
 * relative path only) and `--nocatalogs` from system catalogs. The caller has already parsed the document with
 * parseXmlStrict, which refuses a DOCTYPE, so xmllint never sees entity declarations; the size was bounded
 * before. xmllint exits 0 for a valid document, 3 or 4 for an invalid one, 1 when it cannot parse it; any other
 * end (schema that does not compile, timeout, missing binary) is no verdict.
 */
export function createUblXsdCheck(options: UblXsdOptions = {}): UblXsdCheck {
  const xmllint = options.xmllint ?? 'xmllint';
  const dir = options.schemaDir ?? UBL_21_SCHEMA_DIR;
  const timeoutMs = options.timeoutMs ?? 20_000;
  const limit = concurrencyLimit(options.maxConcurrent ?? 4);
  const schema = (root: 'Invoice' | 'CreditNote') => join(dir, 'maindoc', `UBL-${root}-2.1.xsd`);
  const run = (root: 'Invoice' | 'CreditNote', document: Buffer) =>
    limit(() =>
      runBounded({
        command: xmllint,
        args: ['--noout', '--nonet', '--nocatalogs', '--schema', schema(root), '-'],
        stdin: document,
        timeoutMs,
        maxOutputBytes: MAX_OUTPUT,
      }),
    );

  return {
    async validate(root, document) {
      const r = await run(root, document);
      if (r.status === 0 && !r.failure) return { valid: true, ms: r.ms };
      // A document with errors enough to flood the output bound is invalid too: its first errors were kept.
      const judged = r.failure === 'output-too-large' || (!r.failure && [1, 3, 4].includes(r.status ?? -1));
      if (judged) {
        const errors = xmllintErrors(r.stderr);
        if (errors.length > 0) return { valid: false, errors, ms: r.ms };
      }
      throw new QerdsError(
        'PEPPOL_VALIDATOR_FAILED',
        `UBL 2.1 XSD validation gave no verdict: ${describeFailure(xmllint, r)}`,
      );
    },
    async selfTest() {
      for (const root of ['Invoice', 'CreditNote'] as const) {
        if (!existsSync(schema(root)))
          throw new QerdsError(
            'PEPPOL_VALIDATOR_UNAVAILABLE',
            `peppol.xsd: the UBL 2.1 schema ${schema(root)} does not exist (peppol.xsd.schemaDir)`,
          );
        // A document of another namespace: a schema that compiles refuses it (3); 5 is a schema that does not.
        const r = await run(root, Buffer.from('<qerds-self-test/>'));
        if (r.failure || r.status !== 3 || !/Schemas validity error/.test(r.stderr))
          throw new QerdsError(
            'PEPPOL_VALIDATOR_UNAVAILABLE',
            `peppol.xsd is on, but xmllint cannot validate against ${schema(root)}: ${describeFailure(xmllint, r)}` +
              ' (install libxml2-utils, set peppol.xsd.xmllint, or turn the check off with peppol.xsd.enabled: false)',
          );
      }
    },
  };
}

/** xmllint's stderr lines `-:12: element IssueDate: Schemas validity error : …` (the document is `-`, stdin). */
export function xmllintErrors(stderr: string): UblXsdError[] {
  const errors: UblXsdError[] = [];
  for (const line of stderr.split('\n')) {
    const m = /^-:(\d+): (.*)$/.exec(line.trim());
    if (!m) continue;
    errors.push({ line: Number(m[1]), message: m[2]!.replace(/\s+/g, ' ').trim() });
    if (errors.length >= MAX_ERRORS) break;
  }
  return errors;
}

function describeFailure(command: string, r: ProcessOutcome): string {
  if (r.failure === 'spawn') return `${command} could not be started (${r.spawnError ?? 'unknown error'})`;
  if (r.failure === 'timeout') return `${command} ran past its timeout (${r.ms} ms)`;
  if (r.failure === 'output-too-large') return `${command} wrote more than ${MAX_OUTPUT} bytes`;
  const tail = r.stderr.trim().split('\n').slice(-3).join(' | ').slice(0, 500);
  return `${command} exited with status ${String(r.status)}${tail ? `: ${tail}` : ''}`;
}
