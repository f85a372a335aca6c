/**
 * The one entry point to @peculiar/x509 in qerds-ap. The library resolves its algorithm providers through
 * tsyringe, which needs the Reflect metadata API at load time, so the polyfill is loaded first, here and
 * only here. Import `x509` from this file, never '@peculiar/x509' directly.
 *
 * Loaded at the first use, not at import: with tsyringe it costs ≈ 0.2 s of CPU to load, and verifying
 * (certificate extensions, CRLs: certificate-extensions.ts, crl.ts) reads DER itself; only issuing (the dev
 * PKI, CRL generation) and a few operator commands need the library. The package is CommonJS, so `require`
 * gives the same module instance an ES `import` would.
 *
 * We never set the library's global `cryptoProvider`: callers pass node's WebCrypto per call (`webCrypto`).
 */
import { webcrypto } from 'node:crypto';
import { createRequire } from 'node:module';
import type * as X509Module from '@peculiar/x509';

const require = createRequire(import.meta.url);
let module: typeof X509Module | undefined;

function load(): typeof X509Module {
  if (!module) {
    require('reflect-metadata');
    module = require('@peculiar/x509') as typeof X509Module;
  }
  return module;
}

/** @peculiar/x509, loaded when a member is first read. */
export const x509: typeof X509Module = new Proxy({} as typeof X509Module, {
  get: (_target, key) => Reflect.get(load(), key) as unknown,
  has: (_target, key) => Reflect.has(load(), key),
  ownKeys: () => Reflect.ownKeys(load()),
  getOwnPropertyDescriptor: (_target, key) => {
    const descriptor = Reflect.getOwnPropertyDescriptor(load(), key);
    return descriptor && { ...descriptor, configurable: true };
  },
});

/** The library's types, under the same name as the value (`x509.X509Crl` in a type position). */
// eslint-disable-next-line @typescript-eslint/no-namespace
export declare namespace x509 {
  export type X509Certificate = X509Module.X509Certificate;
  export type X509Crl = X509Module.X509Crl;
  export type X509CrlReason = X509Module.X509CrlReason;
  export type JsonName = X509Module.JsonName;
  export type JsonGeneralNames = X509Module.JsonGeneralNames;
  export type Name = X509Module.Name;
  export type KeyUsageFlags = X509Module.KeyUsageFlags;
  export type Extension = X509Module.Extension;
}

/** node's WebCrypto, typed as the DOM `Crypto` that @peculiar/x509 expects. */
export const webCrypto = webcrypto as unknown as Crypto;
