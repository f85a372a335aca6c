import type { TLSSocket } from 'node:tls';
import type { RequestHandler } from 'express';
import {
  formatParticipantId,
  LOA_URI,
  overallAssurance,
  type Identification,
  type ParticipantId,
} from '../core/index.js';
import { AccountRegistry, type MatchedCredential } from './accounts.js';
import { API_KEY_METHOD, MTLS_METHOD, OAUTH2_CLIENT_CREDENTIALS_METHOD } from './methods.js';
import { TokenService } from './oauth-token.js';
import { sendProblem } from './problem.js';

export { API_KEY_METHOD } from './methods.js';
export const LOA_LOW = LOA_URI[1];

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

export interface AuthenticateOptions {
  readonly accounts: AccountRegistry;
  /** Accepts OAuth2 access tokens as bearer credentials when given. */
  readonly tokens?: TokenService;
  readonly now: () => Date;
}

/**
 * Authenticates a REST request by one of: a TLS client certificate verified in the handshake (mutual
 * TLS), an OAuth2 access token (`Authorization: Bearer <jwt>`), or an API key (`Authorization: Bearer
 * <key>` or `X-API-Key`). The principal carries the identification that evidence records: method, IAL
 * (the account's enrolment), AAL (the credential's kind) and their minimum as eIDAS LoA URI.
 */
export function authenticate(options: AuthenticateOptions): RequestHandler {
  return (req, res, next) => {
    const refuse = (detail: string) => {
      res.set('WWW-Authenticate', 'Bearer');
      req.log?.warn({ reason: detail }, 'authentication refused');
      sendProblem(res, 'AUTH_REQUIRED', detail);
    };
    const now = options.now();
    let fromCertificate: Identified | undefined;
    const socket = req.socket as Partial<TLSSocket>;
    const peer = socket.encrypted ? socket.getPeerX509Certificate?.() : undefined;
    if (peer) {
      // Threat: a certificate from a CA we do not trust (or expired, or for another participant) silently
      // ignored would let a misconfigured or hostile client fall back to a weaker credential unnoticed.
      if (!socket.authorized)
        return refuse(
          `the client certificate is not trusted (${String(socket.authorizationError ?? 'unverified')})`,
        );
      const match = options.accounts.byCertificate('mtls', peer);
      if (!match) return refuse('the client certificate is not enrolled for any participant');
      fromCertificate = identified(match, MTLS_METHOD, now);
    }

    const header = req.get('authorization');
    const bearer = header?.startsWith('Bearer ') ? header.slice(7).trim() : undefined;
    const apiKey = bearer ?? req.get('x-api-key');
    let fromHeader: Identified | undefined;
    if (bearer !== undefined && options.tokens && TokenService.looksLikeToken(bearer)) {
      const verified = options.tokens.verify(bearer);
      if ('refused' in verified) return refuse(verified.refused);
      fromHeader = identified(verified.match, OAUTH2_CLIENT_CREDENTIALS_METHOD, verified.authenticatedAt);
    } else if (apiKey) {
      const match = options.accounts.byApiKey(apiKey);
      if (!match) return refuse('the API key is not valid');
      fromHeader = identified(match, API_KEY_METHOD, now);
    } else if (header !== undefined) {
      return refuse('the Authorization header must be Bearer <token or API key>');
    }

    if (
      fromCertificate &&
      fromHeader &&
      formatParticipantId(fromCertificate.participant) !== formatParticipantId(fromHeader.participant)
    ) {
      return refuse('the client certificate and the Authorization header name different participants');
    }
    // Both for one participant: record the stronger proof.
    const chosen =
      fromCertificate &&
      (!fromHeader || (fromCertificate.identification.aal ?? 0) >= (fromHeader.identification.aal ?? 0))
        ? fromCertificate
        : fromHeader;
    if (!chosen)
      return refuse('authentication is required: a client certificate, an OAuth2 access token or an API key');
    req.principal = chosen;
    req.log = req.log?.child({
      participant: formatParticipantId(chosen.participant),
      credential: chosen.identification.credentialId,
    });
    next();
  };
}

type Identified = Principal;

function identified(match: MatchedCredential, method: string, authenticatedAt: Date): Identified {
  return {
    participant: match.participant,
    name: match.name,
    identification: {
      method,
      assuranceLevel: overallAssurance(match.ial, match.aal).uri,
      authenticatedAt,
      ial: match.ial,
      aal: match.aal,
      credentialId: match.credentialId,
    },
  };
}
