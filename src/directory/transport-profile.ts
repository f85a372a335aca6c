import type { DirectoryEntry } from './types.js';

/**
 * Transport profile of the REM SMTP binding between access points (ETSI EN 319 522-4-1, REM messages of
 * EN 319 532-3): qerds-ap's own identifier, since no SMP registry names one. An SMP endpoint with it, or any
 * directory entry whose endpoint is an `smtp://host:port` URL, is reached by a signed REM Dispatch over SMTP
 * with STARTTLS required instead of AS4.
 */
export const SMTP_RELAY_TRANSPORT_PROFILE = 'etsi-rem-smtp';

/** Whether the AP of this entry is reached over the SMTP relay binding (else AS4, the default). */
export function relaysBySmtp(entry: Pick<DirectoryEntry, 'endpoint' | 'transportProfile'>): boolean {
  return (
    entry.transportProfile === SMTP_RELAY_TRANSPORT_PROFILE ||
    entry.endpoint.toLowerCase().startsWith('smtp:')
  );
}
