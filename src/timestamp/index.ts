export * from './types.js';
export { timestampErrors, type TimestampErrorCode } from './errors.js';
export { createTimestampAuthority } from './authority.js';
export { encodeTimestampRequest, type TimestampRequestOptions } from './request.js';
export { verifyTimestampToken } from './verify.js';
export { acceptTimestampResponse, createLocalTsaClient, createHttpTsaClient } from './client.js';
export { createTsaRouter } from './router.js';
export { createFailoverTsaClient, type FailoverTsaOptions } from './failover-client.js';
