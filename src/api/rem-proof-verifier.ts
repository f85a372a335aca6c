import { formatReport, verifyEvidence, type ProofVerifier } from '../evidence/index.js';
// The REM verifier itself, not the smtp module's face: that also brings the SMTP servers (smtp-server,
// mailparser, pino), which `qerds verify` loaded for nothing.
import {
  formatRemReport,
  isRemMessage,
  verifyRemMessage,
  type RemVerifyOptions,
} from '../smtp/rem-verify.js';

/**
 * REM messages (.eml, S/MIME signed, EN 319 532-3) as a kind of {@link verifyAny}: each evidence part verified
 * too. `decryption`: the recipient's keys, to open an encrypted one (the REST face has none: it says whom for).
 */
export function createRemMessageVerifier(decryption: RemVerifyOptions['decryption'] = []): ProofVerifier {
  return {
    kind: 'rem-message',
    detect: isRemMessage,
    verify: async (bytes, options) => {
      const at = options.at ? { at: options.at } : {};
      const report = await verifyRemMessage(bytes, {
        trust: options.trust,
        ...at,
        decryption,
        verifyEvidence: async (xml) => {
          const r = await verifyEvidence(xml, { trust: options.trust, ...at });
          return { valid: r.indication === 'TOTAL-PASSED', summary: formatReport(r).split('\n')[0]! };
        },
      });
      // signedContent (the decoded original and evidence) is for receivers that act on the message, not for the report.
      return {
        kind: 'rem-message',
        valid: report.verdict === 'VALID',
        words: formatRemReport(report),
        json: JSON.stringify({ ...report, signedContent: undefined }, null, 2),
      };
    },
  };
}

export const remMessageVerifier: ProofVerifier = createRemMessageVerifier();
