/** Field schemas several sections share. */
import { z } from 'zod';
import { assuranceLevelOf } from '../../core/assurance.js';

/**
 * A URL this AP calls over HTTP (webhooks, TSA, SMP) or publishes: http or https only. Threat: a `file:`,
 * `ftp:` or `javascript:` URL in a config, taken as valid, would fail at the first call (or worse) instead of at start.
 */
export const httpUrl = () => z.url({ protocol: /^https?$/, error: 'must be an http:// or https:// URL' });

/** An assurance level: 1–3, `low` / `substantial` / `high`, or an eIDAS LoA URI (see src/core/assurance.ts). */
export const assuranceSpec = z
  .union([z.number(), z.string()])
  .refine(
    (v) => assuranceLevelOf(v) !== undefined,
    'must be 1, 2, 3, low, substantial, high or an eIDAS LoA URI',
  );
export const levelEntry = z.coerce.number().int().min(1).max(3);
/** SHA-256 certificate fingerprint, hex with or without colons (as `openssl x509 -fingerprint -sha256` prints it). */
export const fingerprintEntry = z
  .string()
  .regex(/^([0-9A-Fa-f]{2}:?){31}[0-9A-Fa-f]{2}$/, 'must be a SHA-256 fingerprint in hex');

/** A participant id `<scheme>:<value>` (`0188:<corporate number>`, `9930:<VAT>`, `email:<address>`). */
export const participantId = () => z.string().regex(/^[^:\s]+:\S+$/, 'must be <scheme>:<value>');
