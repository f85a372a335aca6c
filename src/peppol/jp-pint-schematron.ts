import { existsSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { QerdsError } from '../core/errors.js';
import { parseXmlStrict } from '../xml/index.js';
import { concurrencyLimit, runBounded, type ProcessOutcome } from './bounded-process.js';
import type { PeppolFinding } from './errors.js';

const SVRL_NS = 'http://purl.oclc.org/dsdl/svrl';

/** The wrapper stylesheet shipped with qerds-ap (`schemas/xslt/`, from src/ and dist/ alike). */
const RUNNER = fileURLToPath(new URL('../../schemas/xslt/svrl-of-stylesheets.xsl', import.meta.url));

/** The JP PINT rule sets: billing (`billing-1@jp-1`) and self-billing (`selfbilling-1@jp-1`) have their own. */
export type JpPintSpecification = 'billing' | 'selfbilling';

export interface JpPintSchematronOptions {
  /**
   * The compiled Schematron (XSLT 2.0, SVRL output) of each specification, in the order they run: for JP PINT
   * the OpenPeppol `PINT-UBL-validation-preprocessed.xslt` then `PINT-jurisdiction-aligned-rules.xslt`. A
   * specification without stylesheets is not checked here.
   */
  readonly stylesheets: Partial<Record<JpPintSpecification, readonly string[]>>;
  /** The java command. @defaultValue 'java' */
  readonly java?: string;
  /** The Saxon-HE jar (9.9 or later: the runner uses XSLT 3.0 fn:transform). @defaultValue '/usr/share/java/Saxon-HE.jar' (Debian libsaxonhe-java) */
  readonly saxonJar?: string;
  /** JVM options. @defaultValue DEFAULT_JAVA_OPTIONS */
  readonly javaOptions?: readonly string[];
  /** Time one validation may take, in ms. @defaultValue 60000 */
  readonly timeoutMs?: number;
  /** JVMs at once. @defaultValue 2 */
  readonly maxConcurrent?: number;
}

/**
 * A JVM that starts fast and stays small: C1 only (no C2 compilation for a run of a second or two), the serial
 * collector, a bounded heap. Measured on the JP PINT samples: about half the CPU of the JVM's defaults.
 */
export const DEFAULT_JAVA_OPTIONS: readonly string[] = Object.freeze([
  '-XX:TieredStopAtLevel=1',
  '-XX:+UseSerialGC',
  '-Xmx512m',
  '-Xss4m',
]);

export interface SchematronResult {
  /** Every failed assert and successful report, `fatal` for flags fatal and error (and none), else `warning`. */
  readonly findings: readonly PeppolFinding[];
  readonly ms: number;
}

export interface JpPintSchematron {
  /** Whether stylesheets are configured for this specification. */
  covers(spec: JpPintSpecification): boolean;
  /** Runs the specification's stylesheets on the document; rejects with PEPPOL_VALIDATOR_FAILED when Saxon gives no verdict. */
  validate(spec: JpPintSpecification, document: Buffer): Promise<SchematronResult>;
  /** Start-up check: java runs Saxon and every stylesheet compiles; throws PEPPOL_VALIDATOR_UNAVAILABLE naming what fails. */
  selfTest(): Promise<void>;
}

const MAX_OUTPUT = 8 * 1024 * 1024;

/**
 * The official JP PINT Schematron, compiled to XSLT 2.0, run by Saxon-HE in a JVM per document (`java -cp
 * Saxon-HE.jar net.sf.saxon.Transform`), all of a specification's stylesheets in that one JVM
 * (schemas/xslt/svrl-of-stylesheets.xsl). The document arrives on stdin after parseXmlStrict accepted it (no
 * DOCTYPE, so no entity for the JDK parser to expand or fetch); the stylesheets are the operator's, trusted.
 * A JVM start and stylesheet compilation per document is the cost (test/fixtures/peppol/README.md: 1.2–1.6 s of
 * CPU per invoice), bounded by `maxConcurrent`.
 */
export function createJpPintSchematron(options: JpPintSchematronOptions): JpPintSchematron {
  const java = options.java ?? 'java';
  const jar = options.saxonJar ?? '/usr/share/java/Saxon-HE.jar';
  const timeoutMs = options.timeoutMs ?? 60_000;
  const limit = concurrencyLimit(options.maxConcurrent ?? 2);
  const sheets = (spec: JpPintSpecification) => options.stylesheets[spec] ?? [];
  const run = (paths: readonly string[], document: Buffer) =>
    limit(() =>
      runBounded({
        command: java,
        args: [
          ...(options.javaOptions ?? DEFAULT_JAVA_OPTIONS),
          '-cp',
          jar,
          'net.sf.saxon.Transform',
          '-s:-',
          `-xsl:${RUNNER}`,
          `stylesheets=${paths.map((p) => pathToFileURL(p).href).join('\n')}`,
        ],
        stdin: document,
        timeoutMs,
        maxOutputBytes: MAX_OUTPUT,
      }),
    );
  const verdict = (r: ProcessOutcome, what: string) => {
    if (r.failure || r.status !== 0)
      throw new QerdsError('PEPPOL_VALIDATOR_FAILED', `${what} gave no verdict: ${describeFailure(java, r)}`);
    return parseSvrlReports(r.stdout);
  };

  return {
    covers: (spec) => sheets(spec).length > 0,
    async validate(spec, document) {
      const r = await run(sheets(spec), document);
      return { findings: verdict(r, `the JP PINT ${spec} Schematron`), ms: r.ms };
    },
    async selfTest() {
      for (const spec of ['billing', 'selfbilling'] as const) {
        const missing = sheets(spec).filter((p) => !existsSync(p));
        if (missing.length > 0)
          throw new QerdsError(
            'PEPPOL_VALIDATOR_UNAVAILABLE',
            `peppol.jpPint.schematron.${spec === 'billing' ? 'billing' : 'selfBilling'}: ${missing.join(', ')} does not exist`,
          );
      }
      if (!existsSync(jar))
        throw new QerdsError(
          'PEPPOL_VALIDATOR_UNAVAILABLE',
          `peppol.jpPint.schematron.saxonJar: ${jar} does not exist (Debian: apt-get install libsaxonhe-java)`,
        );
      const all = [...sheets('billing'), ...sheets('selfbilling')];
      if (all.length === 0) return;
      // Compiles every stylesheet once on an empty document: a missing java or a broken stylesheet shows now, not
      // at the first invoice.
      const r = await run(all, Buffer.from('<qerds-self-test/>'));
      try {
        verdict(r, 'the JP PINT Schematron');
      } catch (error) {
        throw new QerdsError(
          'PEPPOL_VALIDATOR_UNAVAILABLE',
          `peppol.jpPint.schematron is configured, but cannot run: ${(error as Error).message}`,
          { cause: error },
        );
      }
    },
  };
}

/**
 * The findings of the runner's output (schemas/xslt/svrl-of-stylesheets.xsl): each SVRL `failed-assert` and
 * `successful-report` (ISO Schematron Annex D), its `id` the rule, its `flag` the severity (PINT: fatal or warning),
 * its `svrl:text` the message and its `location` the XPath of the node.
 */
export function parseSvrlReports(xml: string): PeppolFinding[] {
  const doc = parseXmlStrict(xml, 'PEPPOL_VALIDATOR_FAILED', { what: 'SVRL report' });
  const findings: PeppolFinding[] = [];
  for (const kind of ['failed-assert', 'successful-report']) {
    const nodes = doc.getElementsByTagNameNS(SVRL_NS, kind);
    for (let i = 0; i < nodes.length; i++) {
      const e = nodes.item(i)!;
      const text = e.getElementsByTagNameNS(SVRL_NS, 'text').item(0)?.textContent ?? '';
      const flag = e.getAttribute('flag') ?? '';
      const location = e.getAttribute('location');
      findings.push({
        rule: e.getAttribute('id') || '(no id)',
        severity: flag === 'warning' || flag === 'information' ? 'warning' : 'fatal',
        message: text.replace(/\s+/g, ' ').trim(),
        ...(location ? { location: shortLocation(location) } : {}),
      });
    }
  }
  return findings;
}

/** `/*:Invoice[namespace-uri()='…'][1]/*:LegalMonetaryTotal[namespace-uri()='…'][1]` → `/Invoice[1]/LegalMonetaryTotal[1]`. */
function shortLocation(xpath: string): string {
  return xpath.replace(/\*:([\w.-]+)\[namespace-uri\(\)='[^']*'\]/g, '$1');
}

function describeFailure(command: string, r: ProcessOutcome): string {
  if (r.failure === 'spawn') return `${command} could not be started (${r.spawnError ?? 'unknown error'})`;
  if (r.failure === 'timeout') return `${command} ran past its timeout (${r.ms} ms)`;
  if (r.failure === 'output-too-large') return `${command} wrote more than ${MAX_OUTPUT} bytes`;
  const lines = r.stderr
    .split('\n')
    .filter((l) => l.trim() && !/SXWN9000|should use xsl:sequence|^Warning at /.test(l));
  const tail = lines.slice(-3).join(' | ').slice(0, 500);
  return `${command} exited with status ${String(r.status)}${tail ? `: ${tail}` : ''}`;
}
