/**
 * Ports: what the domain needs from the outside world. Implementations are handed in by the
 * composition root (src/access-point.ts), so tests can inject a fixed clock or id generator.
 */

/** The one clock. Tests inject a fixed or stepping clock so results repeat. */
export interface Clock {
  now(): Date;
}

export const systemClock: Clock = Object.freeze({ now: () => new Date() });

/** The one id generator. Ids are opaque strings, unique per AP. */
export interface IdGenerator {
  /** A new unique id, optionally prefixed (`msg-…`, `ev-…`). */
  next(prefix?: string): string;
}

/** A digest over some bytes, as sent to a TSA (RFC 3161 MessageImprint). */
export interface MessageImprint {
  /** Node/OpenSSL digest name, e.g. `sha256`. */
  readonly algorithm: 'sha256' | 'sha384' | 'sha512';
  readonly digest: Buffer;
}

/** A timestamp token obtained from a TSA. */
export interface TimeStampToken {
  /** DER of the CMS ContentInfo (SignedData with TSTInfo), as in TimeStampResp.timeStampToken. */
  readonly der: Buffer;
  /** TSTInfo.genTime */
  readonly genTime: Date;
  /** TSTInfo.serialNumber, hex */
  readonly serialNumber: string;
  /** TSTInfo.policy OID */
  readonly policy: string;
}

/** RFC 3161 client port: asks some TSA (embedded or remote) for a token over an imprint. */
export interface TsaClient {
  timestamp(imprint: MessageImprint): Promise<TimeStampToken>;
}
