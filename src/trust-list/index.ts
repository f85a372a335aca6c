export * from './names.js';
export { trustListErrors, type TrustListErrorCode } from './errors.js';
export type * from './types.js';
export { buildTrustList } from './build-trust-list.js';
export { loadTrustList, loadPointedTrustList, TSL_XML_MIME_TYPE } from './load-trust-list.js';
export { devTrustListXml } from './dev-trust-list.js';
export { combineTrustLists } from './combine-trust-lists.js';
export { requireListedService } from './listed-service-trust.js';
export { loadConfiguredTrustLists, type ConfiguredTrustList } from './load-configured-trust-lists.js';
export {
  createLiveTrustLists,
  type LiveTrustLists,
  type TrustListRefreshReport,
} from './live-trust-lists.js';
