import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { formatParticipantId, parseParticipantId, type Clock, type ParticipantId } from '../core/index.js';

/**
 * One-time pickup links for people (REQ4): C3 mails a recipient a link to one message; the link alone
 * hands nothing over — the person also proves a second factor (TOTP or password) at the pickup
 * endpoint, and the link works once (the store records its use) and only until it expires.
 *
 * Token: `base64url(JSON payload) "." base64url(HMAC-SHA256(key, domain || payload))`. The payload names
 * the message, the recipient, the expiry and a random link id; the MAC binds them (threat: a link edited
 * to name another message or recipient, or to live longer). Nothing is stored when a link is made, so
 * any API process that shares the key can check it.
 */
export interface PickupLinkPayload {
  readonly messageId: string;
  readonly recipient: ParticipantId;
  readonly expiresAt: Date;
  /** Random id, recorded when the link is used. */
  readonly linkId: string;
}

export type PickupLinkCheck =
  | ({ readonly ok: true } & PickupLinkPayload)
  | {
      readonly ok: false;
      readonly code: 'PICKUP_LINK_INVALID' | 'PICKUP_LINK_EXPIRED';
      readonly reason: string;
    };

export interface PickupLinkOptions {
  /** HMAC key (≥ 32 bytes of entropy), shared by every API process. */
  readonly secret: string | Buffer;
  /** Base URL of the AP as people reach it, e.g. `https://ap.example` (or a function, when known only once listening); links are `<base>/pickup/<token>`. */
  readonly baseUrl: string | (() => string);
  /** @defaultValue 86400 (24 hours) */
  readonly ttlSeconds?: number;
  readonly clock: Clock;
}

/** Domain separation: this key's MACs mean "pickup link, version 1" and nothing else. */
const DOMAIN = 'qerds-ap pickup-link v1\n';

export class PickupLinks {
  private readonly key: Buffer;
  private readonly ttlSeconds: number;

  constructor(private readonly options: PickupLinkOptions) {
    this.key = Buffer.isBuffer(options.secret) ? options.secret : Buffer.from(options.secret, 'utf8');
    this.ttlSeconds = options.ttlSeconds ?? 86_400;
  }

  /** The link the notification to `recipient` carries for `messageId` (for the ConsignmentNotification mail). */
  buildPickupLink(messageId: string, recipient: ParticipantId): string {
    const base = typeof this.options.baseUrl === 'function' ? this.options.baseUrl() : this.options.baseUrl;
    return `${base.replace(/\/+$/, '')}/pickup/${this.token(messageId, recipient)}`;
  }

  /** The token alone (the last path segment of the link). */
  token(messageId: string, recipient: ParticipantId): string {
    const exp = Math.floor(this.options.clock.now().getTime() / 1000) + this.ttlSeconds;
    const payload = Buffer.from(
      JSON.stringify({
        m: messageId,
        r: formatParticipantId(recipient),
        exp,
        n: randomBytes(16).toString('base64url'),
      }),
    ).toString('base64url');
    return `${payload}.${this.mac(payload)}`;
  }

  /** What a token names, once its MAC and expiry are checked; the MAC is checked before the payload is read. */
  verify(token: string): PickupLinkCheck {
    const invalid = (reason: string): PickupLinkCheck => ({ ok: false, code: 'PICKUP_LINK_INVALID', reason });
    const [payload, mac, extra] = token.split('.');
    if (!payload || !mac || extra !== undefined) return invalid('the pickup link is malformed');
    const expected = Buffer.from(this.mac(payload));
    const given = Buffer.from(mac);
    if (expected.length !== given.length || !timingSafeEqual(expected, given))
      return invalid('the pickup link is not one this access point made');
    let fields: { m?: unknown; r?: unknown; exp?: unknown; n?: unknown };
    try {
      fields = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as typeof fields;
    } catch {
      return invalid('the pickup link is malformed');
    }
    if (
      typeof fields.m !== 'string' ||
      typeof fields.r !== 'string' ||
      typeof fields.exp !== 'number' ||
      typeof fields.n !== 'string'
    )
      return invalid('the pickup link is malformed');
    const expiresAt = new Date(fields.exp * 1000);
    if (this.options.clock.now() >= expiresAt)
      return {
        ok: false,
        code: 'PICKUP_LINK_EXPIRED',
        reason: `the pickup link expired at ${expiresAt.toISOString()}`,
      };
    return {
      ok: true,
      messageId: fields.m,
      recipient: parseParticipantId(fields.r),
      expiresAt,
      linkId: fields.n,
    };
  }

  private mac(payload: string): string {
    return createHmac('sha256', this.key).update(DOMAIN).update(payload).digest('base64url');
  }
}
