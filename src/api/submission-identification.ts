import type { AssuranceLevel, Identification, PayloadPart, ReasonCode } from '../core/index.js';
import type { PipelineContext } from '../pipeline/index.js';
import type { TrustStore } from '../pki/index.js';
import type { AccountRegistry } from './accounts.js';
import { assuranceShortfall, type AssurancePolicy } from './assurance-policy.js';
import type { Principal } from './auth.js';
import { identifyByEseal } from './eseal-identification.js';
import { readBlob } from './read-blob.js';

/** What the REST API needs to identify senders and recipients beyond the request's credentials. */
export interface IdentificationOptions {
  readonly accounts: AccountRegistry;
  readonly policy: AssurancePolicy;
  /** Trust anchors for e-seals on submitted XML; without them, e-sealed submissions are refused. */
  readonly trust?: TrustStore;
}

export interface SenderIntake {
  /** The identification the evidence records: the request's, or the e-seal's. */
  readonly identification: Identification;
  readonly rejection?: { readonly code: ReasonCode; readonly details: string };
  /** The rejection is the policy's minimum level (403), not a defect of the submission (422). */
  readonly belowPolicy: boolean;
}

/** Largest sealed XML read into memory to verify its seal, in bytes. */
export const ESEAL_MAX_BYTES = 10 * 1024 * 1024;

/**
 * REQ3 at intake: the sender's identification is the request's credential, or its e-seal on the first
 * part when the sender asks for it; then the policy's minimum level applies to whichever it is.
 */
export async function identifySender(
  ctx: PipelineContext,
  principal: Principal,
  parts: readonly PayloadPart[],
  eSeal: boolean,
  minimum: AssuranceLevel,
  options: IdentificationOptions | undefined,
): Promise<SenderIntake> {
  let identification = principal.identification;
  if (eSeal) {
    const part = parts[0]!;
    if (!options?.trust)
      return {
        identification,
        belowPolicy: false,
        rejection: { code: 'RA05', details: 'this access point does not identify senders by e-seal' },
      };
    if (!/xml/i.test(part.contentType))
      return {
        identification,
        belowPolicy: false,
        rejection: { code: 'RA02', details: `e-sealed part ${part.partId} is ${part.contentType}, not XML` },
      };
    if (part.size > ESEAL_MAX_BYTES)
      return {
        identification,
        belowPolicy: false,
        rejection: { code: 'RA02', details: `e-sealed part is larger than ${ESEAL_MAX_BYTES} bytes` },
      };
    const xml = (await readBlob(ctx, part.sha256)).toString('utf8');
    const outcome = await identifyByEseal(xml, principal.participant, {
      trust: options.trust,
      accounts: options.accounts,
      now: ctx.clock.now(),
    });
    if (!outcome.ok) return { identification, belowPolicy: false, rejection: outcome.reason };
    identification = outcome.identification;
  }
  const shortfall = assuranceShortfall(identification, minimum);
  if (shortfall)
    return { identification, belowPolicy: true, rejection: { code: 'RA05', details: shortfall } };
  return { identification, belowPolicy: false };
}
