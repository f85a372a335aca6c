/**
 * The one entry point to @peculiar/x509 in qerds-ap. The library resolves its algorithm providers through
 * tsyringe, which needs the Reflect metadata API at load time, so the polyfill is imported first, here and
 * only here. Import `x509` from this file, never '@peculiar/x509' directly.
 *
 * We never set the library's global `cryptoProvider`: callers pass node's WebCrypto per call (`webCrypto`).
 */
import 'reflect-metadata';
import { webcrypto } from 'node:crypto';
import * as x509 from '@peculiar/x509';

export { x509 };

/** node's WebCrypto, typed as the DOM `Crypto` that @peculiar/x509 expects. */
export const webCrypto = webcrypto as unknown as Crypto;
