import { timingSafeEqual, createHash } from 'node:crypto';
import type { RequestHandler } from 'express';
import { parseParticipantId, type Identification, type ParticipantId } from '../core/index.js';
import { sendProblem } from './problem.js';

export interface ApiKeyAccount {
  readonly key: string;
  readonly participant: string;
  readonly name: string;
}

export interface Principal {
  readonly participant: ParticipantId;
  readonly name: string;
  readonly identification: Identification;
}

declare module 'express-serve-static-core' {
  interface Request {
    principal?: Principal;
  }
}

/** Authentication by API key: an AAL1 single factor, recorded as such in the evidence. */
export const API_KEY_METHOD = 'urn:qerds-ap:authentication:api-key';
export const LOA_LOW = 'http://eidas.europa.eu/LoA/low';

/**
 * API key authentication (`Authorization: Bearer <key>` or `X-API-Key`). Keys are compared by their
 * SHA-256 in constant time (threat: timing side channel revealing a key prefix).
 */
export function apiKeyAuth(accounts: readonly ApiKeyAccount[], now: () => Date): RequestHandler {
  const table = accounts.map((a) => ({ digest: sha256(a.key), account: a }));
  return (req, res, next) => {
    const header = req.get('authorization');
    const presented = header?.startsWith('Bearer ') ? header.slice(7).trim() : req.get('x-api-key');
    if (!presented) {
      res.set('WWW-Authenticate', 'Bearer');
      return sendProblem(res, 401, 'AUTH_REQUIRED', 'an API key is required (Authorization: Bearer <key>)');
    }
    const digest = sha256(presented);
    const match = table.find((row) => timingSafeEqual(row.digest, digest));
    if (!match) return sendProblem(res, 401, 'AUTH_REQUIRED', 'the API key is not valid');
    req.principal = {
      participant: parseParticipantId(match.account.participant),
      name: match.account.name,
      identification: { method: API_KEY_METHOD, assuranceLevel: LOA_LOW, authenticatedAt: now() },
    };
    next();
  };
}

function sha256(text: string): Buffer {
  return createHash('sha256').update(text, 'utf8').digest();
}
