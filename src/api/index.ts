export { createHttpApp, type HttpAppOptions } from './app.js';
export { API_KEY_METHOD, LOA_LOW, type ApiKeyAccount, type Principal } from './auth.js';
export { sendProblem, problemHandler } from './problem.js';
export { createMetrics, type Metrics, type MetricsOptions } from './metrics.js';
