import { existsSync } from 'node:fs';
import { QerdsError } from '../core/index.js';

/**
 * A file (or directory) the configuration names, checked before it is read: when it is missing the
 * operator gets CONFIG_INVALID naming the config key and the path (one line, exit code 2), not an ENOENT
 * stack trace from deep inside the loader. `key` is how the path came about, e.g. `tsa.cert`, or
 * `pki.dir (dev PKI tsa/tsa.crt.pem)` for a default under the dev PKI.
 */
export function configuredFile(key: string, path: string, hint?: string): string {
  if (!existsSync(path)) throw new QerdsError('CONFIG_INVALID', `${key}: ${path} not found${hint ? ` (${hint})` : ''}`);
  return path;
}

/** The config key of a file that has a default under the dev PKI: the explicit key when set, else `pki.dir`. */
export function keyOf(explicitKey: string, explicit: string | undefined, devName: string): string {
  return explicit === undefined ? `pki.dir (dev PKI ${devName}; set ${explicitKey} for another file)` : explicitKey;
}
