/** Where global setup (global-setup.ts) tells the workers the shared PKIs are. */
export const TEST_PKI_ENV = {
  /** openssl-made, "Shared" names: the independent PKI most tests verify against. */
  shared: 'QERDS_TEST_PKI',
  /** openssl-made, "Foreign" names: certificates outside every other test PKI's trust. */
  foreign: 'QERDS_TEST_FOREIGN_PKI',
  /** Made by our own initDevPki (`qerds pki init`): the superset devTestPki() copies from. */
  dev: 'QERDS_TEST_DEV_PKI',
} as const;

/** What the shared dev PKI holds: every AP and recipient a test asks devTestPki() for must be here. */
export const SHARED_DEV_PKI_APS = ['c2', 'c3', 'c9'];
export const SHARED_DEV_PKI_RECIPIENTS = ['alice', 'bob'];
