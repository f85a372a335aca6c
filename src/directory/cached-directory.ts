import { X509Certificate } from 'node:crypto';
import { formatParticipantId, systemClock, type Clock, type ParticipantId } from '../core/index.js';
import type { Directory, DirectoryEntry, DirectoryService, SmpIdentifier } from './types.js';

export interface CachedDirectoryOptions {
  /**
   * How long a found entry is kept, in ms: never past the entry's `expiresAt` (the SMP endpoint's
   * ServiceExpirationDate) nor the `notAfter` of a certificate it names (an answer naming an expired AP
   * certificate is asked again, not served from the cache).
   */
  readonly ttlMs: number;
  /** How long "not found" is kept, in ms: shorter, so a new registration is seen soon. @defaultValue min(ttlMs, 60000) */
  readonly negativeTtlMs?: number;
  /** Most entries kept; the oldest is dropped first. @defaultValue 10000 */
  readonly maxEntries?: number;
  /** @defaultValue systemClock */
  readonly clock?: Clock;
}

interface Cached {
  readonly entry: DirectoryEntry | undefined;
  readonly until: number;
}

/**
 * A caching decorator for any directory. Answers are kept per participant (scheme case-insensitive) and service
 * (document type and process, exactly: an SMP answers per document type); concurrent lookups of one key share
 * one request. Errors are not cached: a refused (forged, expired, not registered for the document type) answer
 * is asked again next time rather than remembered as "unknown".
 */
export function cachedDirectory(inner: Directory, options: CachedDirectoryOptions): Directory {
  const clock = options.clock ?? systemClock;
  const negativeTtlMs = options.negativeTtlMs ?? Math.min(options.ttlMs, 60_000);
  const maxEntries = options.maxEntries ?? 10_000;
  const cache = new Map<string, Cached>();
  const pending = new Map<string, Promise<DirectoryEntry | undefined>>();

  async function lookup(
    participant: ParticipantId,
    service?: DirectoryService,
  ): Promise<DirectoryEntry | undefined> {
    const key = [
      formatParticipantId({ scheme: participant.scheme.toLowerCase(), value: participant.value }),
      ...(service ? [idText(service.documentType), service.process ? idText(service.process) : ''] : []),
    ].join('\n');
    const now = clock.now().getTime();
    const hit = cache.get(key);
    if (hit && hit.until > now) return hit.entry;
    if (hit) cache.delete(key);
    const inFlight = pending.get(key);
    if (inFlight) return inFlight;
    const request = inner
      .lookup(participant, service)
      .then((entry) => {
        const ttl = entry ? options.ttlMs : negativeTtlMs;
        const until = Math.min(now + ttl, entry ? validUntil(entry) : Number.POSITIVE_INFINITY);
        if (cache.size >= maxEntries) cache.delete(cache.keys().next().value as string);
        cache.set(key, { entry, until });
        return entry;
      })
      .finally(() => pending.delete(key));
    pending.set(key, request);
    return request;
  }

  return Object.freeze({ lookup });
}

const idText = (id: SmpIdentifier) => `${id.scheme ?? ''}::${id.value}`;

/** The end of an entry's usefulness: its endpoint's expiration and the `notAfter` of each certificate it names. */
function validUntil(entry: DirectoryEntry): number {
  let until = entry.expiresAt?.getTime() ?? Number.POSITIVE_INFINITY;
  for (const pem of [
    entry.apCertificatePem,
    entry.apEncryptionCertificatePem,
    entry.encryptionCertificatePem,
  ]) {
    if (!pem) continue;
    try {
      until = Math.min(until, new Date(new X509Certificate(pem).validTo).getTime());
    } catch {
      // Not read here: whoever uses the certificate refuses it with its own error.
    }
  }
  return until;
}
