import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

/** Who a browser session is for: the participant whose credential opened it. */
export interface BrowserSession {
  readonly participant: string;
  readonly name: string;
  /** Unix seconds. */
  readonly expiresAt: number;
}

export interface BrowserSessions {
  /** The cookie value of a new session. */
  issue(session: Omit<BrowserSession, 'expiresAt'>, now: Date): string;
  /** The session in a cookie value, or undefined when it is forged, malformed or expired. */
  read(value: string | undefined, now: Date): BrowserSession | undefined;
  readonly ttlSeconds: number;
}

/**
 * Sessions of people using the server-rendered pages, as an HMAC-signed cookie value (no server state).
 * `secret`: shared by every API process of the AP so that any of them accepts the cookie; a random one per
 * process without it (a browser then signs in again after it lands on another process).
 */
export function createBrowserSessions(
  options: { secret?: string; ttlSeconds?: number } = {},
): BrowserSessions {
  const key =
    options.secret !== undefined ? Buffer.from(`browser-session:${options.secret}`, 'utf8') : randomBytes(32);
  const ttlSeconds = options.ttlSeconds ?? 3600;
  const mac = (payload: string) => createHmac('sha256', key).update(payload).digest('base64url');
  return {
    ttlSeconds,
    issue(session, now) {
      const payload = Buffer.from(
        JSON.stringify({
          p: session.participant,
          n: session.name,
          e: Math.floor(now.getTime() / 1000) + ttlSeconds,
        }),
      ).toString('base64url');
      return `${payload}.${mac(payload)}`;
    },
    read(value, now) {
      if (!value) return undefined;
      const [payload, given, extra] = value.split('.');
      if (!payload || !given || extra !== undefined) return undefined;
      const expected = Buffer.from(mac(payload));
      const presented = Buffer.from(given);
      // Threat: a forged or edited cookie naming another participant; compared in constant time.
      if (presented.length !== expected.length || !timingSafeEqual(presented, expected)) return undefined;
      let claims: { p?: unknown; n?: unknown; e?: unknown };
      try {
        claims = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as typeof claims;
      } catch {
        return undefined;
      }
      if (typeof claims.p !== 'string' || typeof claims.n !== 'string' || typeof claims.e !== 'number')
        return undefined;
      if (now.getTime() / 1000 >= claims.e) return undefined;
      return { participant: claims.p, name: claims.n, expiresAt: claims.e };
    },
  };
}

/** The value of cookie `name` in a Cookie header (RFC 6265 §5.4), or undefined. */
export function cookieValue(header: string | undefined, name: string): string | undefined {
  if (!header) return undefined;
  for (const pair of header.split(';')) {
    const at = pair.indexOf('=');
    if (at < 0) continue;
    if (pair.slice(0, at).trim() === name) return pair.slice(at + 1).trim();
  }
  return undefined;
}
