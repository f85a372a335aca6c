export { configSchema, type ParsedConfig, type QerdsConfigInput } from './schema.js';
export { loadConfig, type LoadConfigOptions, type QerdsConfig } from './load.js';
export { configuredFile, type ConfigFiles, type ConfiguredFile, type ConfiguredKeyPair } from './files.js';
