import { randomUUID } from 'node:crypto';
import express, { type RequestHandler, type Router } from 'express';
import type { Logger } from 'pino';
import type { PipelineContext } from '../pipeline/index.js';
import { authenticate } from './auth.js';
import { AccountRegistry, type AccountSpec } from './accounts.js';
import type { AssurancePolicy } from './assurance-policy.js';
import { TokenService, tokenRouter } from './oauth-token.js';
import { messagesRouter } from './messages-routes.js';
import { idempotentSubmission } from './idempotency.js';
import { openApiHandler } from './openapi-route.js';
import { inboxQuery, refuseUnknownQuery, sentMessagesRouter } from './messages-list-route.js';
import { adminRouter, type AdminKey } from './admin-routes.js';
import { recipientsRouter } from './recipients-routes.js';
import { acceptanceRouter } from './acceptance-routes.js';
import { verifyRouter } from './verify-routes.js';
import { verifyPageRouter } from './verify-page.js';
import { senderViewRouter } from './sender-view.js';
import type { TrustList } from '../trust-list/index.js';
import { pickupRouter } from './pickup-routes.js';
import type { TrustStore } from '../pki/index.js';
import { problemHandler, sendProblem } from './problem.js';
import { logAccess } from './access-log.js';

declare module 'express-serve-static-core' {
  interface Request {
    log?: Logger;
  }
}

export interface HttpAppOptions {
  readonly ctx: PipelineContext;
  readonly maxPayloadBytes: number;
  /** AS4 endpoint handler, mounted at POST /as4. */
  readonly as4?: RequestHandler;
  /** Embedded TSA, mounted at /tsa. */
  readonly tsa?: Router;
  /** Prometheus scrape handler, mounted at GET /metrics (unauthenticated, like the probes: keep it off the public edge). */
  readonly metrics?: RequestHandler;
  /** Readiness probes: name → check that throws when not ready, or answers a warning (still ready). */
  readonly readiness?: Readonly<Record<string, () => Promise<void | string>>>;
  /** Trust store of the pre-send recipient check (GET /api/v1/recipients/{participant}); without it nothing named by the directory is trusted. */
  readonly trust?: TrustStore;
  /** Trusted lists (combined) that POST /api/v1/verify reads the qualified status of seals and TSAs from. @defaultValue none */
  readonly trustList?: TrustList;
  /** Operator keys of /api/v1/admin (dead letters); none: the admin API is not mounted. */
  readonly adminKeys?: readonly AdminKey[];
  /** Local participants with their enrolment IAL and credentials (API keys, OAuth2 clients, mTLS and e-seal certificates). */
  readonly accounts?: readonly AccountSpec[];
  /** Minimum assurance of the sender on submission and of the recipient on handover. @defaultValue low for both */
  readonly policy?: AssurancePolicy;
  /** OAuth2 access tokens (POST /oauth/token). @defaultValue 300 s, a random key per process */
  readonly oauth2?: { readonly tokenTtlSeconds?: number; readonly tokenSecret?: string };
  /** Wrong second factors tolerated per pickup link (the API's POST /pickup/<token> and the page together; mounted when ctx.pickupLinks is set). @defaultValue 5 */
  readonly pickupMaxAttempts?: number;
  /** The public verification page at /verify: largest file and verifications per client address per minute. @defaultValue 10 MiB, 30 */
  readonly verifyPage?: { readonly maxBytes?: number; readonly maxPerMinute?: number };
}

/** The AP's HTTP face: REST API under /api/v1, AS4 at /as4, TSA at /tsa, health probes. */
export function createHttpApp(options: HttpAppOptions): express.Express {
  const app = express();
  app.disable('x-powered-by');
  app.set('trust proxy', false);
  app.use((req, res, next) => {
    // The caller's X-Request-Id when it is a plain token (threat: log injection through the header),
    // otherwise a fresh one; echoed so that a client can quote it, and on every log line of the request.
    const given = req.get('x-request-id');
    const requestId = given && /^[A-Za-z0-9._:@-]{1,128}$/.test(given) ? given : randomUUID();
    res.set('X-Request-Id', requestId);
    // A pickup link's token is a bearer secret until used (threat: whoever reads the log picks the content up).
    const path = req.path.startsWith('/pickup/') ? '/pickup/(token)' : req.path;
    req.log = options.ctx.log.child({ requestId, method: req.method, path });
    logAccess(req, res, options.ctx.log, { requestId, path });
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
        // A probe's answer is a warning: still ready, but the operator should act (e.g. a CRL due soon).
        const warning = await probe();
        checks[name] = warning ? `warning: ${warning}` : 'ok';
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

  // Public, no login: anyone handed a proof can check it (GET / leads there).
  app.use(
    verifyPageRouter({
      trust: options.trust,
      clock: options.ctx.clock,
      ...(options.trustList ? { trustList: options.trustList } : {}),
      ...options.verifyPage,
    }),
  );

  const accounts = new AccountRegistry(options.accounts ?? []);
  const tokens = new TokenService({
    accounts,
    clock: options.ctx.clock,
    issuer: options.ctx.self.id,
    secret: options.oauth2?.tokenSecret,
    ttlSeconds: options.oauth2?.tokenTtlSeconds,
  });
  app.use('/oauth', tokenRouter(tokens, accounts));
  // The sender's staff in a browser: its own session (a signed cookie), separate from the API's credentials.
  app.use(
    senderViewRouter(options.ctx, {
      accounts,
      ...(options.trust ? { trust: options.trust } : {}),
      ...(options.trustList ? { trustList: options.trustList } : {}),
      ...(options.oauth2?.tokenSecret ? { sessionSecret: options.oauth2.tokenSecret } : {}),
    }),
  );
  // People's pickup links carry their own authentication (link + second factor), outside /api/v1's; the
  // page's session is signed like the sender view's.
  if (options.ctx.pickupLinks) {
    app.use(
      '/pickup',
      pickupRouter(options.ctx, {
        links: options.ctx.pickupLinks,
        accounts,
        minHandover: options.policy?.minHandover ?? 1,
        maxAttempts: options.pickupMaxAttempts,
        ...(options.oauth2?.tokenSecret ? { sessionSecret: options.oauth2.tokenSecret } : {}),
      }),
    );
  }

  app.get('/api/v1/openapi.yaml', openApiHandler());
  // Before the participant API: its authentication would refuse an admin key.
  if (options.adminKeys?.length) app.use('/api/v1/admin', adminRouter(options.ctx, options.adminKeys));
  const api = express.Router();
  api.use(authenticate({ accounts, tokens, now: () => options.ctx.clock.now() }));
  const policy = options.policy ?? { minSubmission: 1, minHandover: 1 };
  api.post(
    '/messages',
    idempotentSubmission({
      store: options.ctx.store,
      clock: options.ctx.clock,
      maxPayloadBytes: options.maxPayloadBytes,
    }),
  );
  api.use(sentMessagesRouter(options.ctx.store));
  api.get('/inbox', refuseUnknownQuery(inboxQuery));
  api.use(
    messagesRouter(options.ctx, {
      maxPayloadBytes: options.maxPayloadBytes,
      identification: { accounts, policy, trust: options.trust },
    }),
  );
  api.use(acceptanceRouter(options.ctx, policy));
  api.use(
    recipientsRouter({ directory: options.ctx.directory, trust: options.trust, clock: options.ctx.clock }),
  );
  api.use(
    verifyRouter({
      trust: options.trust,
      clock: options.ctx.clock,
      ...(options.trustList ? { trustList: options.trustList } : {}),
    }),
  );
  app.use('/api/v1', api);

  app.use((_req, res) => sendProblem(res, 'NOT_FOUND', 'no such resource'));
  app.use(problemHandler);
  return app;
}
