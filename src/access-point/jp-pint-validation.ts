import type { ReasonCode } from '../core/index.js';
import type { QerdsConfig } from '../config/index.js';
import {
  createJpPintSchematron,
  createUblXsdCheck,
  JP_PINT_SELF_BILLING_CUSTOMIZATION,
  validateJpPint,
  type JpPintSchematron,
  type PeppolFinding,
  type UblXsdCheck,
  UBL_CREDIT_NOTE_NS,
  UBL_INVOICE_NS,
} from '../peppol/index.js';
import { parseXmlStrict } from '../xml/index.js';

/** The validators a Peppol AP runs on a submitted UBL document besides the JP PINT rules written as code. */
export interface JpPintValidators {
  /** UBL 2.1 XSD (xmllint); absent when `peppol.xsd.enabled` is false. */
  readonly xsd?: UblXsdCheck;
  /** The official JP PINT Schematron (Saxon); absent unless `peppol.jpPint.schematron` names stylesheets. */
  readonly schematron?: JpPintSchematron;
  /** Told the warnings of a document that passes (code rules and Schematron), for the log. */
  readonly onWarnings?: (warnings: readonly PeppolFinding[]) => void;
}

export type JpPintRefusal = { readonly code: ReasonCode; readonly details: string };

/**
 * The validators `peppol.*` configures, each checked at start (`selfTest`): a check the operator turned on that
 * cannot run stops the AP with PEPPOL_VALIDATOR_UNAVAILABLE naming the setting, rather than letting invoices pass
 * unchecked.
 */
export async function createJpPintValidators(
  config: Pick<QerdsConfig, 'peppol'>,
  onWarnings?: (warnings: readonly PeppolFinding[]) => void,
): Promise<JpPintValidators> {
  const { xsd: xsdConfig, jpPint } = config.peppol;
  const xsd = xsdConfig.enabled
    ? createUblXsdCheck({
        xmllint: xsdConfig.xmllint,
        ...(xsdConfig.schemaDir ? { schemaDir: xsdConfig.schemaDir } : {}),
        timeoutMs: xsdConfig.timeoutMs,
        maxConcurrent: xsdConfig.maxConcurrent,
      })
    : undefined;
  const s = jpPint.schematron;
  const schematron = s
    ? createJpPintSchematron({
        stylesheets: { billing: s.billing, selfbilling: s.selfBilling },
        java: s.java,
        saxonJar: s.saxonJar,
        ...(s.javaOptions ? { javaOptions: s.javaOptions } : {}),
        timeoutMs: s.timeoutMs,
        maxConcurrent: s.maxConcurrent,
      })
    : undefined;
  await xsd?.selfTest();
  await schematron?.selfTest();
  return {
    ...(xsd ? { xsd } : {}),
    ...(schematron ? { schematron } : {}),
    ...(onWarnings ? { onWarnings } : {}),
  };
}

/**
 * One submitted document through every JP PINT check, cheapest first, the first failing step deciding:
 * well-formedness (parseXmlStrict: no DOCTYPE, structural limits), the UBL 2.1 XSD, the rules written as code
 * (src/peppol/jp-pint.ts), the official Schematron. A refusal is RA02 (InvalidMessageFormat) naming the XSD error
 * or the rule. A validator that gives no verdict throws PEPPOL_VALIDATOR_FAILED (REST: 503, the sender tries
 * again): the document is not known to be wrong.
 */
export async function checkJpPintDocument(
  body: Buffer,
  validators: JpPintValidators = {},
): Promise<JpPintRefusal | undefined> {
  let root: Element;
  try {
    root = parseXmlStrict(body.toString('utf8'), 'PEPPOL_INVOICE_INVALID', {
      what: 'JP PINT document',
    }).documentElement!;
  } catch (error) {
    return { code: 'RA02', details: `not a JP PINT document: ${(error as Error).message}` };
  }
  const kind = ublRoot(root);
  if (kind && validators.xsd) {
    const r = await validators.xsd.validate(kind, body);
    if (!r.valid) {
      const first = r.errors[0]!;
      return {
        code: 'RA02',
        details: `UBL 2.1 XSD: ${first.line !== undefined ? `line ${first.line}: ` : ''}${first.message}`,
      };
    }
  }
  const findings = validateJpPint(root);
  const fatal = findings.find((f) => f.severity === 'fatal');
  if (fatal)
    return {
      code: 'RA02',
      details: `JP PINT rule ${fatal.rule}: ${fatal.message}${fatal.location ? ` (${fatal.location})` : ''}`,
    };
  const warnings = [...findings];
  const spec = specificationOf(root);
  if (validators.schematron?.covers(spec)) {
    const { findings: official } = await validators.schematron.validate(spec, body);
    const failed = official.find((f) => f.severity === 'fatal');
    if (failed)
      return {
        code: 'RA02',
        details: `JP PINT rule ${failed.rule} (official Schematron): ${failed.message}${failed.location ? ` (${failed.location})` : ''}`,
      };
    warnings.push(...official);
  }
  if (warnings.length > 0) validators.onWarnings?.(warnings);
  return undefined;
}

function ublRoot(root: Element): 'Invoice' | 'CreditNote' | undefined {
  if (root.namespaceURI === UBL_INVOICE_NS && root.localName === 'Invoice') return 'Invoice';
  if (root.namespaceURI === UBL_CREDIT_NOTE_NS && root.localName === 'CreditNote') return 'CreditNote';
  return undefined;
}

/** billing or self-billing, by the document's CustomizationID (each has its own official rule set). */
function specificationOf(root: Element): 'billing' | 'selfbilling' {
  for (let n = root.firstChild; n; n = n.nextSibling) {
    if (n.nodeType === 1 && (n as Element).localName === 'CustomizationID')
      return (n.textContent ?? '').trim().startsWith(JP_PINT_SELF_BILLING_CUSTOMIZATION)
        ? 'selfbilling'
        : 'billing';
  }
  return 'billing';
}
