export { createHttpApp, type HttpAppOptions } from './app.js';
export { deadLetterView, type AdminKey } from './admin-routes.js';
export { API_KEY_METHOD, LOA_LOW, type Principal } from './auth.js';
export { sendProblem, problemHandler } from './problem.js';
export { createMetrics, type HeldValidationData, type Metrics, type MetricsOptions } from './metrics.js';
export { OAUTH2_CLIENT_CREDENTIALS_METHOD, MTLS_METHOD, ESEAL_METHOD } from './methods.js';
export {
  AccountRegistry,
  type AccountSpec,
  type CredentialSpec,
  type MatchedCredential,
} from './accounts.js';
export { presentedAssurance, assuranceShortfall, type AssurancePolicy } from './assurance-policy.js';
export {
  verifyRouter,
  as4CaptureVerifier,
  remMessageVerifier,
  createRemMessageVerifier,
  proofVerifiers,
  type VerifyRouterOptions,
} from './verify-routes.js';
export { apiRecipientLinks, type RecipientLinks } from './recipient-links.js';
