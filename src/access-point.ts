import type { X509Certificate } from 'node:crypto';
import { existsSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { pino, type Logger } from 'pino';
import { createHttpApp, createMetrics } from './api/index.js';
import { createAs4Transport, createAs4Endpoint } from './access-point/as4-binding.js';
import { loadAs4Security } from './access-point/as4-security.js';
import type { QerdsConfig } from './config/index.js';
import { assuranceLevelOf, QerdsError, systemClock, uuidIdGenerator, type Clock, type IdGenerator, type TsaClient } from './core/index.js';
import { createStaticDirectory } from './directory/index.js';
import { createEvidenceIssuer, createEvidenceVerifier } from './access-point/evidence-binding.js';
import { createOutboxDispatcher, type PipelineContext } from './pipeline/index.js';
import { createConfiguredQueue, registerWorkers, selectedStages, type WorkerSelection } from './access-point/queue-binding.js';
import { createSmtpIntakeBinding } from './access-point/smtp-binding.js';
import { createMailTransport } from './access-point/mail-binding.js';
import { createApServer } from './access-point/http-server.js';

import { devPkiLayout, loadSigningIdentity, loadTrustStore, type SigningIdentity, type TrustStore } from './pki/index.js';
import { createStore } from './store/index.js';
import { createFailoverTsaClient, createHttpTsaClient, createLocalTsaClient, createTimestampAuthority, createTsaRouter } from './timestamp/index.js';

export interface AccessPointOptions {
  readonly clock?: Clock;
  readonly ids?: IdGenerator;
  readonly logger?: Logger;
  /**
   * Pipeline stages this process runs workers for: all of them, none (an API-only process beside
   * `qerds worker` processes; needs queue.kind bullmq), or a list. @defaultValue true
   */
  readonly workers?: WorkerSelection;
  /** Serve HTTP (REST API, AS4, TSA, probes); false for a worker-only process. @defaultValue true */
  readonly api?: boolean;
}

export interface AccessPoint {
  readonly config: QerdsConfig;
  readonly context: PipelineContext;
  readonly identity: SigningIdentity;
  readonly trust: TrustStore;
  /** Base URL once started (`http://127.0.0.1:<port>`). */
  readonly url: string;
  /** The SMTP intake's bound address, when smtp.enabled and started. */
  readonly smtpAddress?: { readonly host: string; readonly port: number };
  start(): Promise<void>;
  /** Stops taking requests, drains in-flight jobs, closes the store. */
  stop(): Promise<void>;
}

/** The composition root: a validated config in, a running access point out. */
export async function createAccessPoint(config: QerdsConfig, options: AccessPointOptions = {}): Promise<AccessPoint> {
  const clock = options.clock ?? systemClock;
  const ids = options.ids ?? uuidIdGenerator;
  const log = options.logger ?? pino({ level: config.log.level, base: { ap: config.ap.id } });

  const dev = devPkiLayout(config.pki.dir);
  const sealFiles = { cert: config.pki.sealCert ?? dev.ap(config.pki.apName).sealCert, key: config.pki.sealKey ?? dev.ap(config.pki.apName).sealKey };
  if (!existsSync(sealFiles.cert)) {
    throw new QerdsError('CONFIG_INVALID', `pki: e-seal certificate ${sealFiles.cert} not found (run \`qerds pki init\` for a dev PKI)`);
  }
  const identity = loadSigningIdentity(sealFiles.cert, sealFiles.key);
  const trust = loadTrustStore(config.pki.trust ?? [dev.caCert, dev.caCrl]);
  const as4 = loadAs4Security(config, identity);

  const tsa = config.tsa.mode === 'embedded' ? createTimestampAuthority({ identity: loadSigningIdentity(dev.tsaCert, dev.tsaKey), policyOid: config.tsa.policyOid, clock }) : undefined;
  const store = await createStore({ ...config.store, clock, retentionYears: config.retention.years });
  const metrics = createMetrics({ stats: () => store.stats() });
  const tsaClient: TsaClient = metrics.observeTsa(tsa
    ? createLocalTsaClient(tsa)
    : config.tsa.urls
      ? createFailoverTsaClient(
          config.tsa.urls.map((url) => createHttpTsaClient({ url, timeoutMs: config.tsa.timeoutMs, trust })),
          { names: config.tsa.urls, cooldownMs: config.tsa.cooldownMs, log },
        )
      : createHttpTsaClient({ url: requireValue(config.tsa.url, 'tsa.url'), timeoutMs: config.tsa.timeoutMs, trust }));

  await store.migrate();
  const stages = selectedStages(config, options.workers ?? true);
  const serveHttp = options.api ?? true;
  const { queue, ping: queuePing } = createConfiguredQueue(config, log);
  const self = { id: config.ap.id, name: config.ap.name };
  const directory = createStaticDirectory(config.directory.participants);
  const localAccounts = new Map([...config.apiKeys, ...config.accounts].map((k) => [k.participant, k.name]));
  const directoryNames = new Map(config.directory.participants.map((p) => [p.id, p.name]));

  const mail = createMailTransport(config, identity, log);
  const context: PipelineContext = {
    self,
    store,
    queue,
    clock,
    ids,
    log,
    directory,
    evidence: metrics.observeEvidence(createEvidenceIssuer({
      self,
      policyIds: config.ap.policyIds,
      identity,
      tsa: tsaClient,
      clock,
      ids,
      names: (id) => localAccounts.get(id) ?? directoryNames.get(id),
      longTerm: { level: config.evidence.level, crls: trust.crls, certificates: validationCertificates(trust, [identity.certificate, ...(tsa ? [tsa.certificate] : [])]) },
    })),
    evidenceVerifier: createEvidenceVerifier(trust),
    transport: createAs4Transport({ self, identity, trust, timeoutMs: config.relay.timeoutMs, as4, directory }),
    participants: {
      details: async (id, identification) => ({ id, identification, name: localAccounts.get(`${id.scheme}:${id.value}`) }),
      isLocal: async (id) => localAccounts.has(`${id.scheme}:${id.value}`),
    },
    relayRetry: config.relay,
    ...(mail ? { mail } : {}),
    // The dispatcher is made below; poke is only called once requests flow.
    poke: () => dispatcher.poke(),
  };
  registerWorkers(queue, context, stages, metrics.observeJob);
  // Every process runs a dispatcher: it feeds the queue and is the sweeper that re-dispatches what a
  // crashed process or a flushed Redis lost (leases run out). Several on one store share the work.
  const dispatcher = createOutboxDispatcher({ store, queue, clock, log, pollIntervalMs: config.queue.pollIntervalMs, leaseMs: config.queue.leaseMs, retry: { baseMs: config.relay.baseDelayMs, maxMs: config.relay.maxDelayMs } });

  const app = createHttpApp({
    ctx: context,
    trust,
    apiKeys: config.apiKeys,
    adminKeys: config.adminKeys,
    accounts: config.accounts,
    policy: { minSubmission: assuranceLevelOf(config.policy.minSubmissionAssurance)!, minHandover: assuranceLevelOf(config.policy.minHandoverAssurance)! },
    oauth2: config.oauth2,
    maxPayloadBytes: config.limits.maxPayloadBytes,
    as4: createAs4Endpoint(context, { identity, trust, maxMessageBytes: config.limits.maxPayloadBytes * 2, as4 }),
    tsa: tsa && config.tsa.serve ? createTsaRouter(tsa) : undefined,
    metrics: metrics.handler,
    readiness: { store: async () => void (await store.listMessages({ limit: 1 })), ...(queuePing ? { redis: queuePing } : {}) },
  });
  const { server, scheme } = createApServer(app, config.http.tls);
  const smtpIntake = config.smtp.enabled && serveHttp ? createSmtpIntakeBinding(context, config, log) : undefined;
  let url = '';

  return {
    config,
    context,
    identity,
    trust,
    get url() {
      return url;
    },
    get smtpAddress() {
      return smtpIntake?.address;
    },
    async start() {
      if (serveHttp) {
        await new Promise<void>((resolve, reject) => {
          server.once('error', reject);
          server.listen(config.http.port, config.http.host, () => resolve());
        });
        const { port } = server.address() as AddressInfo;
        url = `${scheme}://${config.http.host}:${port}`;
      }
      dispatcher.start();
      await smtpIntake?.start();
      log.info({ url, seal: identity.certificate.subject, queue: config.queue.kind, workers: stages }, 'access point started');
    },
    async stop() {
      // Jobs first (they may call peers), then requests in flight (they write to the store), then the store.
      await smtpIntake?.stop();
      await dispatcher.stop();
      if (server.listening) {
        const closed = new Promise<void>((resolve) => server.close(() => resolve()));
        server.closeIdleConnections();
        // Requests in flight get a grace period; keep-alive connections that go idle meanwhile would
        // otherwise hold the close for the whole keep-alive timeout.
        const grace = setInterval(() => server.closeIdleConnections(), 100);
        const deadline = setTimeout(() => server.closeAllConnections(), STOP_GRACE_MS);
        await closed;
        clearInterval(grace);
        clearTimeout(deadline);
      }
      await queue.close();
      mail?.close();
      await store.close();
    },
  };
}

/** The CA certificates of the given leaves' paths (leaves excluded), once each: CertificateValues of B-LT seals. */
function validationCertificates(trust: TrustStore, leaves: readonly X509Certificate[]): X509Certificate[] {
  const byPrint = new Map<string, X509Certificate>();
  for (const leaf of leaves) for (const cert of trust.validate(leaf).path.slice(1)) byPrint.set(cert.fingerprint256, cert);
  return [...byPrint.values()];
}

/** How long requests in flight may take to finish when the AP stops, in ms. */
const STOP_GRACE_MS = 5_000;

function requireValue<T>(value: T | undefined, key: string): T {
  if (value === undefined) throw new QerdsError('CONFIG_INVALID', `${key} is required`);
  return value;
}
