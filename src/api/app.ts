import express, { type RequestHandler, type Router } from 'express';
import type { Logger } from 'pino';
import type { PipelineContext } from '../pipeline/index.js';
import { apiKeyAuth, type ApiKeyAccount } from './auth.js';
import { messagesRouter } from './messages-routes.js';
import { recipientsRouter } from './recipients-routes.js';
import type { TrustStore } from '../pki/index.js';
import { problemHandler, sendProblem } from './problem.js';

declare module 'express-serve-static-core' {
  interface Request {
    log?: Logger;
  }
}

export interface HttpAppOptions {
  readonly ctx: PipelineContext;
  readonly apiKeys: readonly ApiKeyAccount[];
  readonly maxPayloadBytes: number;
  /** AS4 endpoint handler, mounted at POST /as4. */
  readonly as4?: RequestHandler;
  /** Embedded TSA, mounted at /tsa. */
  readonly tsa?: Router;
  /** Prometheus scrape handler, mounted at GET /metrics (unauthenticated, like the probes: keep it off the public edge). */
  readonly metrics?: RequestHandler;
  /** Readiness probes: name → check that throws when not ready. */
  readonly readiness?: Readonly<Record<string, () => Promise<void>>>;
  /** Trust store of the pre-send recipient check (GET /api/v1/recipients/{participant}); without it nothing named by the directory is trusted. */
  readonly trust?: TrustStore;
}

/** The AP's HTTP face: REST API under /api/v1, AS4 at /as4, TSA at /tsa, health probes. */
export function createHttpApp(options: HttpAppOptions): express.Express {
  const app = express();
  app.disable('x-powered-by');
  app.set('trust proxy', false);
  app.use((req, _res, next) => {
    req.log = options.ctx.log.child({ method: req.method, path: req.path });
    next();
  });

  app.get('/healthz', (_req, res) => {
    res.json({ status: 'ok' });
  });
  app.get('/readyz', async (_req, res) => {
    const checks: Record<string, string> = {};
    let ready = true;
    for (const [name, probe] of Object.entries(options.readiness ?? {})) {
      try {
        await probe();
        checks[name] = 'ok';
      } catch (error) {
        ready = false;
        checks[name] = (error as Error).message;
      }
    }
    res.status(ready ? 200 : 503).json({ status: ready ? 'ready' : 'not ready', checks });
  });

  if (options.metrics) app.get('/metrics', options.metrics);
  if (options.as4) app.post('/as4', options.as4);
  if (options.tsa) app.use('/tsa', options.tsa);

  const api = express.Router();
  api.use(apiKeyAuth(options.apiKeys, () => options.ctx.clock.now()));
  api.use(messagesRouter(options.ctx, { maxPayloadBytes: options.maxPayloadBytes }));
  api.use(recipientsRouter({ directory: options.ctx.directory, trust: options.trust, clock: options.ctx.clock }));
  app.use('/api/v1', api);

  app.use((_req, res) => sendProblem(res, 404, 'NOT_FOUND', 'no such resource'));
  app.use(problemHandler);
  return app;
}
