export { configSchema, type QerdsConfig, type QerdsConfigInput } from './schema.js';
export { loadConfig, type LoadConfigOptions } from './load.js';
export { configuredFile, keyOf } from './files.js';
