/* eslint-disable @typescript-eslint/no-require-imports, no-undef -- a CommonJS preload, run by node as it is */
// Preloaded (`--require`) into the worker threads the bench's access points start (the evidence pool): counts the
// private-key operations of node:crypto there, as crypto-bound.ts does in the main thread, and tells the main
// thread over a BroadcastChannel. CommonJS: node 20 runs a worker's `--require` preloads, not its `--import` ones.
const { syncBuiltinESMExports } = require('node:module');
const crypto = require('node:crypto');
const { isMainThread, BroadcastChannel } = require('node:worker_threads');

/**
 * The kind of a private-key operation, e.g. `sign:rsa2048`, `sign:ec-prime256v1`, `sign:ed25519`, `derive:x25519`
 * (crypto-bound.ts uses it too).
 */
function kindOf(op, key) {
  let object;
  try {
    const k = key && typeof key === 'object' && 'key' in key ? key.key : key;
    object = k instanceof crypto.KeyObject ? k : crypto.createPrivateKey(k);
  } catch {
    return `${op}:unknown`;
  }
  const type = object.asymmetricKeyType ?? 'unknown';
  const details = object.asymmetricKeyDetails;
  const size = type.startsWith('rsa')
    ? String(details?.modulusLength ?? '')
    : type === 'ec'
      ? `-${details?.namedCurve ?? ''}`
      : '';
  return `${op}:${type}${size}`;
}

/**
 * The kind of a key pair generation by `generateKeyPairSync(type, options)`, named as kindOf names the key's
 * operations (`generate:x25519`, `generate:ec-prime256v1`): an ephemeral key of a key agreement (eDelivery AS4 2.0's
 * X25519, CMS ECDH) costs a scalar multiplication per message, as the agreement itself does.
 */
function generatedKindOf(type, options) {
  if (typeof type !== 'string') return 'generate:unknown';
  if (type.startsWith('rsa')) return `generate:${type}${options?.modulusLength ?? ''}`;
  if (type === 'ec') return `generate:ec-${options?.namedCurve ?? ''}`;
  return `generate:${type}`;
}

if (!isMainThread) {
  const channel = new BroadcastChannel('qerds-bench-private-key-operations');
  channel.unref();
  // Told in batches: a message per operation cost the thread more than the counting is worth.
  let batch = [];
  setInterval(() => {
    if (batch.length === 0) return;
    channel.postMessage(batch);
    batch = [];
  }, 100).unref();
  const wrap = (name, op, keyOf) => {
    const original = crypto[name];
    crypto[name] = function (...args) {
      batch.push({ kind: kindOf(op, keyOf(args)), at: Date.now() });
      return Reflect.apply(original, this, args);
    };
  };
  wrap('sign', 'sign', (args) => args[2]);
  wrap('privateDecrypt', 'decrypt', (args) => args[0]);
  wrap('diffieHellman', 'derive', (args) => args[0].privateKey);
  const generate = crypto.generateKeyPairSync;
  crypto.generateKeyPairSync = function (...args) {
    batch.push({ kind: generatedKindOf(args[0], args[1]), at: Date.now() });
    return Reflect.apply(generate, this, args);
  };
  syncBuiltinESMExports();
}

module.exports = { kindOf, generatedKindOf };
