/** Configuration sections: Peppol submission checks (assembled in config/schema.ts). */
import { z } from 'zod';

/**
 * Validation of the business documents submitted on the Peppol profile (`as4.profile: peppol`), run in this order
 * before the JP PINT rules written as code (src/peppol/jp-pint.ts) and, when configured, after them the official
 * JP PINT Schematron. A failing document gets a SubmissionRejection (RA02) naming the XSD error or the rule.
 * Ignored on other profiles.
 */
export const peppol = z
  .strictObject({
    /**
     * UBL 2.1 XML Schema validation of every submitted Invoice or CreditNote, by xmllint (libxml2-utils) in a
     * subprocess, against the OASIS UBL 2.1 schemas shipped in schemas/ubl-2.1 (src/peppol/ubl-xsd.ts). When on,
     * the AP does not start unless xmllint runs and compiles the schemas.
     */
    xsd: z
      .strictObject({
        /** Run the XSD check on the Peppol profile. @defaultValue true */
        enabled: z.boolean().default(true),
        /** The xmllint command or path. @defaultValue 'xmllint' */
        xmllint: z.string().min(1).default('xmllint'),
        /** A directory laid out like the UBL 2.1 release's `xsdrt` (`maindoc/UBL-Invoice-2.1.xsd`…). @defaultValue the schemas/ubl-2.1/xsdrt shipped with qerds-ap */
        schemaDir: z.string().min(1).optional(),
        /** Time one validation may take, in ms; past it the submission is answered 503 (try again). @defaultValue 20000 */
        timeoutMs: z.coerce.number().int().min(100).default(20_000),
        /** xmllint processes at once; more submissions wait their turn. @defaultValue 4 */
        maxConcurrent: z.coerce.number().int().min(1).default(4),
      })
      .prefault({}),
    /** JP PINT (`urn:peppol:pint:billing-1@jp-1`, self-billing `selfbilling-1@jp-1`). */
    jpPint: z
      .strictObject({
        /**
         * The official JP PINT Schematron, compiled to XSLT 2.0 (OpenPeppol's resources for the version in force:
         * `PINT-UBL-validation-preprocessed.xslt` then `PINT-jurisdiction-aligned-rules.xslt`), run by Saxon-HE
         * in a JVM per document (src/peppol/jp-pint-schematron.ts). A fatal (or error) assert refuses the
         * submission naming its rule id and text; warnings are logged. Absent: only the rules written as code
         * run. When set, the AP does not start unless java runs Saxon and every stylesheet compiles.
         * @defaultValue absent
         */
        schematron: z
          .strictObject({
            /** Stylesheets of the billing specification, in order. @defaultValue [] (billing documents not checked by Schematron) */
            billing: z.array(z.string().min(1)).default([]),
            /** Stylesheets of the self-billing specification, in order. @defaultValue [] */
            selfBilling: z.array(z.string().min(1)).default([]),
            /** The java command or path (Java 11 or later). @defaultValue 'java' */
            java: z.string().min(1).default('java'),
            /** The Saxon-HE jar, 9.9 or later. @defaultValue '/usr/share/java/Saxon-HE.jar' (Debian libsaxonhe-java) */
            saxonJar: z.string().min(1).default('/usr/share/java/Saxon-HE.jar'),
            /** JVM options. @defaultValue ['-XX:TieredStopAtLevel=1', '-XX:+UseSerialGC', '-Xmx512m', '-Xss4m'] */
            javaOptions: z.array(z.string().min(1)).optional(),
            /** Time one validation may take, in ms; past it the submission is answered 503 (try again). @defaultValue 60000 */
            timeoutMs: z.coerce.number().int().min(1000).default(60_000),
            /** JVMs at once; more submissions wait their turn. @defaultValue 2 */
            maxConcurrent: z.coerce.number().int().min(1).default(2),
          })
          .refine((s) => s.billing.length + s.selfBilling.length > 0, {
            message: 'name the stylesheets of billing, selfBilling or both',
          })
          .optional(),
      })
      .prefault({}),
  })
  .prefault({});
