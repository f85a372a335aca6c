import { createHmac, randomBytes, randomUUID, timingSafeEqual } from 'node:crypto';
import express, { Router, type Request, type Response } from 'express';
import type { Clock } from '../core/index.js';
import { verifyPassword } from '../smtp/index.js';
import type { AccountRegistry, MatchedCredential } from './accounts.js';

/**
 * OAuth 2.0 client credentials grant (RFC 6749 §4.4) for systems that submit or pick up messages.
 *
 * Access tokens are JWTs signed with HMAC-SHA256 (RFC 9068 shape, `typ: at+jwt`), not opaque tokens kept
 * in memory: any API process that shares `oauth2.tokenSecret` accepts them (the scaled deployment runs
 * several), and a restart loses nothing. The usual JWT pitfalls are closed by accepting exactly one
 * header (no `alg` negotiation, so no `none` or RS/HS confusion) and checking the MAC before reading the
 * payload. Revocation: tokens live `tokenTtlSeconds` (default 5 minutes), and each use looks the client
 * up again, so a client removed from the config is refused at once.
 */
export interface TokenServiceOptions {
  readonly accounts: AccountRegistry;
  readonly clock: Clock;
  /** Issuer (`iss`): this AP's id. */
  readonly issuer: string;
  /** HMAC key; default: 32 random bytes, valid for this process only. */
  readonly secret?: string;
  /** @defaultValue 300 (seconds) */
  readonly ttlSeconds?: number;
}

export interface VerifiedToken {
  readonly match: MatchedCredential;
  /** When the client authenticated with its secret (`iat`): the AuthenticationTime of the evidence. */
  readonly authenticatedAt: Date;
}

const HEADER = base64url(JSON.stringify({ alg: 'HS256', typ: 'at+jwt' }));

export class TokenService {
  private readonly key: Buffer;
  readonly ttlSeconds: number;

  constructor(private readonly options: TokenServiceOptions) {
    this.key = options.secret !== undefined ? Buffer.from(options.secret, 'utf8') : randomBytes(32);
    this.ttlSeconds = options.ttlSeconds ?? 300;
  }

  /** Whether a bearer credential is one of our tokens (rather than an API key). */
  static looksLikeToken(text: string): boolean {
    return text.startsWith(`${HEADER}.`);
  }

  issue(clientId: string): string {
    const now = Math.floor(this.options.clock.now().getTime() / 1000);
    const payload = base64url(
      JSON.stringify({
        iss: this.options.issuer,
        sub: clientId,
        client_id: clientId,
        iat: now,
        exp: now + this.ttlSeconds,
        jti: randomUUID(),
      }),
    );
    return `${HEADER}.${payload}.${this.mac(`${HEADER}.${payload}`)}`;
  }

  /** The client a token was issued to, or the reason it is refused. */
  verify(token: string): VerifiedToken | { readonly refused: string } {
    const [header, payload, mac, extra] = token.split('.');
    if (header !== HEADER || payload === undefined || mac === undefined || extra !== undefined)
      return { refused: 'the access token is malformed' };
    const expected = Buffer.from(this.mac(`${header}.${payload}`));
    const given = Buffer.from(mac);
    if (given.length !== expected.length || !timingSafeEqual(given, expected))
      return { refused: 'the access token signature is not valid' };
    let claims: { iss?: unknown; client_id?: unknown; iat?: unknown; exp?: unknown };
    try {
      claims = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as typeof claims;
    } catch {
      return { refused: 'the access token is malformed' };
    }
    const now = this.options.clock.now().getTime() / 1000;
    if (
      claims.iss !== this.options.issuer ||
      typeof claims.client_id !== 'string' ||
      typeof claims.iat !== 'number' ||
      typeof claims.exp !== 'number'
    ) {
      return { refused: 'the access token is malformed' };
    }
    if (now >= claims.exp) return { refused: 'the access token has expired' };
    const client = this.options.accounts.oauthClient(claims.client_id);
    if (!client) return { refused: 'the client of the access token is no longer registered' };
    return { match: client.match, authenticatedAt: new Date(claims.iat * 1000) };
  }

  private mac(input: string): string {
    return createHmac('sha256', this.key).update(input).digest('base64url');
  }
}

/**
 * `POST /oauth/token`: grant_type=client_credentials, the client authenticated by HTTP Basic
 * (RFC 6749 §2.3.1, preferred) or by client_id/client_secret in the form body. Errors per §5.2.
 */
export function tokenRouter(tokens: TokenService, accounts: AccountRegistry): Router {
  const router = Router();
  router.post('/token', express.urlencoded({ extended: false, limit: '8kb' }), async (req, res) => {
    // §5.1: token responses must not be cached (threat: a shared cache serving one client's token to another).
    res.set('Cache-Control', 'no-store').set('Pragma', 'no-cache');
    // §3.2 requires TLS: a client secret sent in clear can be replayed by anyone on the path. This AP
    // trusts no proxy, so "secure" means TLS terminated here.
    if (!req.secure)
      return oauthError(res, 400, 'invalid_request', 'the token endpoint is served over TLS only');
    if (!req.is('application/x-www-form-urlencoded'))
      return oauthError(res, 400, 'invalid_request', 'the body must be application/x-www-form-urlencoded');
    const body = (req.body ?? {}) as Record<string, unknown>;
    const client = clientCredentials(req, body);
    if ('error' in client) return oauthError(res, 400, 'invalid_request', client.error);
    if (body.grant_type !== 'client_credentials') {
      return oauthError(
        res,
        400,
        body.grant_type === undefined ? 'invalid_request' : 'unsupported_grant_type',
        'grant_type must be client_credentials',
      );
    }
    const registered = accounts.oauthClient(client.id);
    // Unknown clients are hashed against a dummy too (threat: client_id enumeration by timing).
    const ok = await verifyPassword(client.secret, registered?.secretHash);
    if (!ok || !registered) {
      if (client.basic) res.set('WWW-Authenticate', 'Basic realm="qerds-ap"');
      req.log?.warn({ clientId: client.id }, 'oauth2 client authentication failed');
      return oauthError(res, 401, 'invalid_client', 'client authentication failed');
    }
    res.json({ access_token: tokens.issue(client.id), token_type: 'Bearer', expires_in: tokens.ttlSeconds });
  });
  return router;
}

function clientCredentials(
  req: Request,
  body: Record<string, unknown>,
): { id: string; secret: string; basic: boolean } | { error: string } {
  const header = req.get('authorization');
  const inBody = body.client_id !== undefined || body.client_secret !== undefined;
  if (header !== undefined) {
    // §2.3: a client must not use more than one authentication method in a request.
    if (inBody) return { error: 'use either HTTP Basic or client_id/client_secret in the body, not both' };
    const m = /^Basic\s+([A-Za-z0-9+/=]+)$/i.exec(header);
    if (!m) return { error: 'the Authorization header must be Basic' };
    const decoded = Buffer.from(m[1]!, 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    if (colon < 0) return { error: 'malformed Basic credentials' };
    try {
      // §2.3.1: id and secret are form-urlencoded before they are joined.
      return {
        id: formDecode(decoded.slice(0, colon)),
        secret: formDecode(decoded.slice(colon + 1)),
        basic: true,
      };
    } catch {
      return { error: 'malformed Basic credentials' };
    }
  }
  if (typeof body.client_id !== 'string' || typeof body.client_secret !== 'string')
    return { error: 'client authentication is required' };
  return { id: body.client_id, secret: body.client_secret, basic: false };
}

function formDecode(text: string): string {
  return decodeURIComponent(text.replace(/\+/g, ' '));
}

function oauthError(res: Response, status: number, error: string, description: string): void {
  res.status(status).json({ error, error_description: description });
}

function base64url(text: string): string {
  return Buffer.from(text, 'utf8').toString('base64url');
}
