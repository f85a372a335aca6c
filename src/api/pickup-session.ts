import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { overallAssurance, type AssuranceLevel, type Identification } from '../core/index.js';

/** A person's pickup session: the link it was opened with, and how the person was identified then. */
export interface PickupSession {
  readonly linkId: string;
  readonly messageId: string;
  /** `<scheme>:<value>` of the recipient the link names. */
  readonly recipient: string;
  readonly identification: Identification;
  /** Random value the session's forms echo (CSRF): only a page of this session can know it. */
  readonly formNonce: string;
  /** Unix seconds. */
  readonly expiresAt: number;
}

export interface PickupSessions {
  readonly ttlSeconds: number;
  /** The cookie value of a new session (a fresh form nonce with it). */
  issue(session: Omit<PickupSession, 'expiresAt' | 'formNonce'>, now: Date): string;
  /** The session in a cookie value, or undefined when it is forged, malformed or expired. */
  read(value: string | undefined, now: Date): PickupSession | undefined;
  /** A new random nonce for the sign-in form's cookie. */
  newNonce(): string;
  /** The token a form carries: bound to the nonce of the browser's cookie and to what the form is for. */
  formToken(nonce: string, purpose: string): string;
  /** Whether `given` is the form token of `nonce` and `purpose` (constant time). */
  checkFormToken(nonce: string | undefined, purpose: string, given: unknown): boolean;
}

/**
 * The pickup page's state in the browser, with no server state: the session as an HMAC-signed cookie value
 * (threat: a cookie edited to name another message or recipient, or to live longer), and CSRF form tokens
 * as HMACs over the nonce of a cookie the attacker's site can neither read nor set alongside a matching
 * token (signed double submit). `secret`: shared by every API process; a random key per process without it.
 */
export function createPickupSessions(options: { secret?: string; ttlSeconds?: number } = {}): PickupSessions {
  const key =
    options.secret !== undefined ? Buffer.from(`pickup-session:${options.secret}`, 'utf8') : randomBytes(32);
  const ttlSeconds = options.ttlSeconds ?? 1800;
  const mac = (domain: string, payload: string) =>
    createHmac('sha256', key).update(`${domain}\n`).update(payload).digest('base64url');
  const same = (a: string, b: string) => {
    const x = Buffer.from(a);
    const y = Buffer.from(b);
    return x.length === y.length && timingSafeEqual(x, y);
  };
  const formToken = (nonce: string, purpose: string) => mac('form', `${purpose}\n${nonce}`);
  return {
    ttlSeconds,
    newNonce: () => randomBytes(18).toString('base64url'),
    formToken,
    checkFormToken: (nonce, purpose, given) =>
      typeof nonce === 'string' &&
      nonce !== '' &&
      typeof given === 'string' &&
      same(formToken(nonce, purpose), given),
    issue(session, now) {
      const i = session.identification;
      const claims = {
        l: session.linkId,
        m: session.messageId,
        r: session.recipient,
        im: i.method,
        ii: i.ial,
        ia: i.aal,
        it: i.authenticatedAt.getTime(),
        ic: i.credentialId,
        f: randomBytes(18).toString('base64url'),
        e: Math.floor(now.getTime() / 1000) + ttlSeconds,
      };
      const payload = Buffer.from(JSON.stringify(claims)).toString('base64url');
      return `${payload}.${mac('session', payload)}`;
    },
    read(value, now) {
      if (!value) return undefined;
      const [payload, given, extra] = value.split('.');
      if (!payload || !given || extra !== undefined || !same(mac('session', payload), given))
        return undefined;
      let c: Record<string, unknown>;
      try {
        c = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as Record<string, unknown>;
      } catch {
        return undefined;
      }
      const text = (v: unknown): v is string => typeof v === 'string' && v !== '';
      const level = (v: unknown): v is AssuranceLevel => v === 1 || v === 2 || v === 3;
      if (
        !text(c.l) ||
        !text(c.m) ||
        !text(c.r) ||
        !text(c.im) ||
        !level(c.ii) ||
        !level(c.ia) ||
        typeof c.it !== 'number' ||
        !text(c.f) ||
        typeof c.e !== 'number'
      )
        return undefined;
      if (now.getTime() / 1000 >= c.e) return undefined;
      const assurance = overallAssurance(c.ii, c.ia);
      return {
        linkId: c.l,
        messageId: c.m,
        recipient: c.r,
        identification: {
          method: c.im,
          assuranceLevel: assurance.uri,
          authenticatedAt: new Date(c.it),
          ial: c.ii,
          aal: c.ia,
          ...(text(c.ic) ? { credentialId: c.ic } : {}),
        },
        formNonce: c.f,
        expiresAt: c.e,
      };
    },
  };
}
