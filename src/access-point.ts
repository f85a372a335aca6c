import { randomBytes, type X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { pino, type Logger } from 'pino';
import { apiRecipientLinks, createHttpApp, createMetrics } from './api/index.js';
import { createAs4Transport, createAs4Endpoint } from './access-point/as4-binding.js';
import { ACTION_DISPATCH, ERDS_SERVICE } from './profiles/index.js';
import { jpPintSubmissionCheck, peppolServiceOf } from './access-point/as4-peppol.js';
import { createJpPintValidators } from './access-point/jp-pint-validation.js';
import { peppolAs4Profile } from './peppol/index.js';
import { crlAsPem, type TrustStore } from './pki/index.js';
import { relayRetryPolicy } from './access-point/as4-security.js';
import { loadConfig, type QerdsConfig, type QerdsConfigInput } from './config/index.js';
import {
  assuranceLevelOf,
  formatParticipantId,
  systemClock,
  uuidIdGenerator,
  type Clock,
  type IdGenerator,
} from './core/index.js';
import { encryptionCertificateRefusal } from './directory/index.js';
import { createConfiguredDirectory } from './access-point/directory-binding.js';
import { createEvidenceIssuer, createEvidenceVerifier } from './access-point/evidence-binding.js';
import { createConfiguredEvidencePool } from './access-point/evidence-pool-binding.js';
import { loadKeysAndTrust, openConfiguredStore } from './access-point/infrastructure.js';
import { registerAccessPointInternals } from './access-point/internals.js';
import {
  createOutboxDispatcher,
  PickupLinks,
  type EndToEndPolicy,
  type PipelineContext,
} from './pipeline/index.js';
import {
  createConfiguredQueue,
  registerWorkers,
  selectedStages,
  stageConcurrency,
  type WorkerSelection,
} from './access-point/queue-binding.js';
import {
  createSmtpInboundBinding,
  createSmtpIntakeBinding,
  smtpAddressMapping,
} from './access-point/smtp-binding.js';
import { createMailTransport } from './access-point/mail-binding.js';
import { createSmtpRelayTransport, routeTransport } from './access-point/smtp-relay-transport.js';
import { createSmtpRelayListener } from './access-point/smtp-relay-listener.js';
import { createApServer } from './access-point/http-server.js';
import { createRecipientChannels } from './access-point/recipient-channels.js';
import { createSenderWebhooks } from './access-point/sender-webhooks.js';
import { createOnBehalfSealer } from './access-point/remote-seal-binding.js';
import { createArchiveRenewalJob } from './archive/index.js';
import { createValidationDataRefresh, heldValidationData } from './access-point/validation-data-refresh.js';
import { createTsaRouter } from './timestamp/index.js';

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
  /** Where the PINs of senders' remote e-seals (`accounts[].remoteSeal.pkcs11.pinEnv`) are read. @defaultValue process.env */
  readonly env?: NodeJS.ProcessEnv;
}

/** A running access point as its embedder sees it (the internals: access-point/internals.ts, not exported). */
export interface AccessPoint {
  /** The configuration it runs with (validated, paths absolute, files resolved). */
  readonly config: QerdsConfig;
  /**
   * Its e-seal certificate: what peers pin for its evidence (a directory entry's `apSealCertificate`, else its
   * `apCertificate`).
   */
  readonly sealCertificate: X509Certificate;
  /**
   * The certificate it signs AS4 messages and receipts with (`as4.signingCert`; the e-seal's by default): what peers
   * pin for it as a directory entry's `apCertificate`.
   */
  readonly as4SigningCertificate: X509Certificate;
  /** Base URL once started (`http://127.0.0.1:<port>`). */
  readonly url: string;
  /** The SMTP intake's bound address, when smtp.enabled and started. */
  readonly smtpAddress?: { readonly host: string; readonly port: number };
  /** The inbound (non-ERDS, MX-style) SMTP listener's bound address, when smtp.inbound is set and started. */
  readonly smtpInboundAddress?: { readonly host: string; readonly port: number };
  /** The relay listener's bound address (REM SMTP binding between APs), when smtp.relay is set and started. */
  readonly smtpRelayAddress?: { readonly host: string; readonly port: number };
  start(): Promise<void>;
  /** Stops taking requests, drains in-flight jobs, closes the store. */
  stop(): Promise<void>;
}

/**
 * The composition root: a configuration in, an access point out, wired top to bottom: keys and trust, the
 * store, then the pipeline's ports, the pipeline, and what serves it (HTTP, SMTP).
 *
 * `config` is what loadConfig takes as overrides (QerdsConfigInput), validated here with defaults and no
 * environment, or what loadConfig returned (file < env < overrides, already validated).
 */
export async function createAccessPoint(
  config: QerdsConfigInput | QerdsConfig,
  options: AccessPointOptions = {},
): Promise<AccessPoint> {
  return wire(isLoaded(config) ? config : loadConfig({ env: {}, overrides: config }), options);
}

/** `files` is no key of the schema (strict objects refuse it): only loadConfig's output has it. */
function isLoaded(config: QerdsConfigInput | QerdsConfig): config is QerdsConfig {
  return 'files' in config;
}

async function wire(config: QerdsConfig, options: AccessPointOptions): Promise<AccessPoint> {
  const clock = options.clock ?? systemClock;
  const ids = options.ids ?? uuidIdGenerator;
  const log = options.logger ?? pino({ level: config.log.level, base: { ap: config.ap.id } });
  for (const deprecation of config.deprecations) log.warn(deprecation);
  // Only processes that take submissions (REST, SMTP) serve HTTP and SMTP, and seal for senders.
  const serveHttp = options.api ?? true;
  const stages = selectedStages(config.queue, options.workers ?? true);

  // The validators of Peppol submissions, checked before anything else starts: one turned on that cannot run
  // (no xmllint, no java, a stylesheet missing) stops the AP here, naming its setting.
  const jpPintValidators =
    config.as4.profile === peppolAs4Profile.id && serveHttp
      ? await createJpPintValidators(config, (warnings) =>
          log.info(
            { warnings: warnings.map((w) => ({ rule: w.rule, location: w.location })) },
            'JP PINT warnings on an accepted submission',
          ),
        )
      : undefined;

  // Infrastructure: keys, trust and time stamps (where most configuration mistakes stop the AP), then the store.
  const infra = await loadKeysAndTrust(config, {
    clock,
    log,
    takesSubmissions: serveHttp,
    env: options.env ?? process.env,
  });
  const { identity, trust, peerTrust, as4 } = infra;
  const trustList = infra.trustLists?.view;
  const store = await openConfiguredStore(config, clock);

  // Where peers and people reach this AP: its public URL, else the address it listens on, known once started.
  let listeningUrl = '';
  const baseUrl = () => config.http.publicUrl ?? listeningUrl;

  const metrics = createMetrics({
    stats: () => store.stats(),
    validationData: () => heldValidationData(infra.crls, infra.trustLists),
    now: () => clock.now(),
  });
  const tsaClient = metrics.observeTsa(infra.tsaClient);
  const validationData = createValidationDataRefresh({
    crls: infra.crls,
    ...(infra.trustLists ? { trustLists: infra.trustLists } : {}),
    files: infra.trustFiles,
    certificates: [...trust.anchors, ...infra.ownCertificates],
    settings: config.pki.crlRefresh,
    clock,
    log,
    onRefreshed: (kind, outcome, count) => metrics.countValidationDataRefresh(kind, outcome, count),
  });

  // The pipeline's ports.
  const { queue, ping: queuePing } = createConfiguredQueue(config.queue, log);
  // Every process runs a dispatcher: it feeds the queue and is the sweeper that re-dispatches what a
  // crashed process or a flushed Redis lost (leases run out). Several on one store share the work.
  const dispatcher = createOutboxDispatcher({
    store,
    queue,
    clock,
    log,
    pollIntervalMs: config.queue.pollIntervalMs,
    idlePollMaxMs: config.queue.idlePollMaxMs,
    leaseMs: config.queue.leaseMs,
    retry: {
      baseMs: config.relay.baseDelayMs,
      maxMs: config.relay.maxDelayMs,
      maxAttempts: config.queue.maxAttempts,
    },
  });
  const self = { id: config.ap.id, name: config.ap.name };
  const directory = createConfiguredDirectory(config.directory, trust, clock, config.as4.profile);
  const localAccounts = new Map(config.accounts.map((k) => [k.participant, k.name]));
  const directoryNames = new Map(config.directory.participants.map((p) => [p.id, p.name]));
  const mail = createMailTransport(config, identity, log);
  // The REM SMTP binding to peers whose directory entry names an smtp:// endpoint; TLS as the AS4 client's.
  const smtpRelay = createSmtpRelayTransport({
    identity,
    trust,
    directory,
    from: { address: config.smtp.outbound?.from ?? `rem@${config.smtp.domain}`, name: config.ap.name },
    policies: config.ap.policyIds,
    tls: config.as4.tls.ca
      ? { ca: config.as4.tls.ca.map((file) => readFileSync(file)), crl: [] }
      : { ca: trust.anchors.map((a) => a.toString()), crl: trust.crls.map(crlAsPem) },
    timeoutMs: config.relay.timeoutMs,
    clock,
    log: log.child({ component: 'smtp-relay-out' }),
  });
  // Worker threads (performance.workerThreads) for evidence and for the AS4 packing and receipts of both sides.
  const evidencePool = createConfiguredEvidencePool(config, infra, tsaClient, log, metrics.recordTsa);
  const as4Transport = createAs4Transport({
    self,
    // AS4 is signed with the AS4 signing key (the e-seal unless as4.signingCert names another).
    identity: as4.signing,
    trust,
    peerTrust,
    timeoutMs: config.relay.timeoutMs,
    as4,
    directory,
    tls: infra.as4Tls,
    onEvidenceReturned: metrics.observeEvidenceReturned,
    ...(infra.peppolPeers ? { peppolPeers: infra.peppolPeers } : {}),
    ...(evidencePool ? { pack: (input) => evidencePool.pack(input) } : {}),
  });
  // Without a configured secret the links are valid in this process only (fine for one embedded AP).
  const pickupLinks = new PickupLinks({
    secret: config.pickup.secret ?? randomBytes(32),
    ttlSeconds: config.pickup.ttlSeconds,
    clock,
    baseUrl,
  });
  const evidence = createEvidenceIssuer({
    self,
    policyIds: config.ap.policyIds,
    identity,
    tsa: tsaClient,
    clock,
    ids,
    names: (id) => localAccounts.get(id) ?? directoryNames.get(id),
    longTerm: {
      level: config.evidence.level,
      crls: () => trust.crls,
      certificates: infra.validationCertificates,
    },
    ...(evidencePool ? { pool: evidencePool } : {}),
  });

  // The pipeline.
  const context: PipelineContext = {
    self,
    store,
    queue,
    clock,
    ids,
    log,
    directory,
    evidence: metrics.observeEvidence(evidence),
    evidenceVerifier: createEvidenceVerifier(infra.sealTrust, evidencePool),
    transport: routeTransport(as4Transport, smtpRelay),
    participants: {
      details: async (id, identification) => ({
        id,
        identification,
        name: localAccounts.get(`${id.scheme}:${id.value}`),
      }),
      isLocal: async (id) => localAccounts.has(`${id.scheme}:${id.value}`),
    },
    relayRetry: relayRetryPolicy(
      config.relay,
      as4.pmodes.find((p) => p.service === ERDS_SERVICE && p.action === ACTION_DISPATCH),
    ),
    relayEvidenceTimeoutMs: config.relay.evidenceTimeoutMs,
    peerSeals: {
      ownSealFingerprint: identity.certificate.fingerprint256,
      unpinnedPeers: config.pki.unpinnedPeers,
    },
    webhookRetry: config.webhooks,
    ...(mail ? { mail } : {}),
    // Notices point at this AP's API.
    recipients: createRecipientChannels(config, apiRecipientLinks(baseUrl), log, {
      mail,
      personalPickupLink: (id, recipient) => pickupLinks.buildPickupLink(id, recipient),
    }),
    senderWebhooks: createSenderWebhooks(config, baseUrl, log),
    poke: () => dispatcher.poke(),
    endToEnd: endToEndPolicy(config.policy.endToEnd, trust, clock),
    // On Peppol, a submission must be a valid JP PINT document before it is accepted (SubmissionRejection naming the rule).
    // and the recipient is looked up for the document type and process of that document (SMP: that registration).
    ...(as4.profile === peppolAs4Profile.id
      ? {
          submissionCheck: jpPintSubmissionCheck(store.blobs, jpPintValidators),
          serviceOf: peppolServiceOf(store.blobs),
        }
      : {}),
    ...(infra.remoteSeals.size > 0
      ? {
          onBehalfSealer: createOnBehalfSealer({
            signers: infra.remoteSeals,
            blobs: store.blobs,
            tsa: tsaClient,
            clock,
            ids,
          }),
        }
      : {}),
    pickupLinks,
  };
  registerWorkers(queue, context, stages, metrics.observeJob, (stage) =>
    stageConcurrency(config.queue, stage),
  );

  // Only processes that run workers take part in the renewal sweep (registered on the queue at start).
  const archiveRenewal =
    config.retention.renewIntervalMs > 0 && stages.length > 0
      ? createArchiveRenewalJob({
          store,
          clock,
          log,
          tsa: tsaClient,
          intervalMs: config.retention.renewIntervalMs,
          renewBeforeMs: config.retention.renewBeforeDays * 86_400_000,
          crls: () => trust.crls,
          certificates: infra.validationCertificates,
          onRenewed: (count) => metrics.countArchiveRenewed(count),
        })
      : undefined;

  // What serves the pipeline: HTTP (REST, AS4, TSA, probes) and the SMTP listeners.
  const app = createHttpApp({
    ctx: context,
    trust,
    ...(trustList ? { trustList } : {}),
    adminKeys: config.adminKeys,
    accounts: config.accounts,
    policy: {
      minSubmission: assuranceLevelOf(config.policy.minSubmissionAssurance)!,
      minHandover: assuranceLevelOf(config.policy.minHandoverAssurance)!,
    },
    oauth2: config.oauth2,
    pickupMaxAttempts: config.pickup.maxAttempts,
    maxPayloadBytes: config.limits.maxPayloadBytes,
    as4: createAs4Endpoint(context, {
      identity: as4.signing,
      trust: peerTrust,
      maxMessageBytes: config.limits.maxPayloadBytes * 2,
      envelopeLimits: config.as4.envelope,
      as4,
      mutualTls: Boolean(config.http.tls?.requestClientCert || config.http.tls?.requireClientCert),
      ...(infra.peppolPeers ? { peppolPeers: infra.peppolPeers } : {}),
      ...(evidencePool ? { receiptBuilder: (input) => evidencePool.receipt(input) } : {}),
    }),
    tsa: infra.tsa && config.tsa.serve ? createTsaRouter(infra.tsa) : undefined,
    metrics: metrics.handler,
    readiness: {
      store: async () => void (await store.listMessages({ limit: 1 })),
      ...(queuePing ? { redis: queuePing } : {}),
      validationData: () => validationData.readiness(),
    },
  });
  const { server, scheme } = createApServer(app, config.http.tls);
  const mapping = smtpAddressMapping(config.smtp.domain, config.directory.participants);
  const smtpListener = { smtp: config.smtp, tls: config.files.smtpTls, mapping };
  const smtpIntake =
    config.smtp.enabled && serveHttp ? createSmtpIntakeBinding(context, smtpListener, log) : undefined;
  const smtpInbound = serveHttp ? createSmtpInboundBinding(context, smtpListener, log) : undefined;
  const smtpRelayListener = serveHttp
    ? createSmtpRelayListener(
        context,
        { ...smtpListener, tls: config.files.smtpRelayTls },
        { trust: peerTrust, decryption: as4.encryption, log },
      )
    : undefined;
  let startupBlobSweep: Promise<void> | undefined;
  const sweepOrphanBlobs = async () => {
    const { removed } = await store.sweepOrphanBlobs({ graceMs: config.store.orphanGraceSeconds * 1000 });
    if (removed > 0) log.info({ removed }, 'orphan blobs removed');
  };

  const accessPoint: AccessPoint = {
    config,
    sealCertificate: identity.certificate,
    as4SigningCertificate: as4.signing.certificate,
    get url() {
      return listeningUrl;
    },
    get smtpAddress() {
      return smtpIntake?.address;
    },
    get smtpInboundAddress() {
      return smtpInbound?.address;
    },
    get smtpRelayAddress() {
      return smtpRelayListener?.address;
    },
    async start() {
      if (serveHttp) {
        await new Promise<void>((resolve, reject) => {
          server.once('error', reject);
          server.listen(config.http.port, config.http.host, () => resolve());
        });
        const { port } = server.address() as AddressInfo;
        listeningUrl = `${scheme}://${config.http.host}:${port}`;
      }
      // The evidence threads load their code and keys now, not inside the first message's life.
      evidencePool?.warm();
      dispatcher.start();
      validationData.start();
      // Once per interval across the cluster (BullMQ job scheduler), not once per process: N worker
      // processes must not each re-timestamp the same due evidence.
      queue.registerSweep('outbox', config.queue.sweepIntervalMs, () => dispatcher.sweep());
      if (archiveRenewal)
        queue.registerSweep(
          'archive-renewal',
          config.retention.renewIntervalMs,
          async () => void (await archiveRenewal.runOnce()),
        );
      if (config.store.orphanSweepSeconds > 0) {
        // Blobs that a crash (or a refusal whose discard did not run) left unreferenced: at start, in the
        // background, and then once per interval. Threat: a disk filled by uploads nobody will ever read.
        startupBlobSweep = sweepOrphanBlobs().catch((error: unknown) =>
          log.error({ err: error }, 'orphan blob sweep failed'),
        );
        queue.registerSweep('orphan-blobs', config.store.orphanSweepSeconds * 1000, sweepOrphanBlobs);
      }
      await smtpIntake?.start();
      await smtpInbound?.start();
      await smtpRelayListener?.start();
      log.info(
        { url: listeningUrl, seal: identity.certificate.subject, queue: config.queue.kind, workers: stages },
        'access point started',
      );
    },
    async stop() {
      // Jobs first (they may call peers), then requests in flight (they write to the store), then the store.
      await smtpIntake?.stop();
      await archiveRenewal?.stop();
      await validationData.stop();
      await smtpInbound?.stop();
      await smtpRelayListener?.stop();
      await dispatcher.stop();
      await startupBlobSweep;
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
      // After the queue: its jobs in flight may be waiting for a thread.
      await evidencePool?.close();
      mail?.close();
      smtpRelay.close();
      infra.close();
      await store.close();
    },
  };
  return registerAccessPointInternals(accessPoint, {
    context,
    identity,
    trust,
    ...(evidencePool ? { evidencePool } : {}),
  });
}

/** The end-to-end rules of `policy.endToEnd`, checking the recipient's certificate against the AP's trust store. */
function endToEndPolicy(
  settings: QerdsConfig['policy']['endToEnd'],
  trust: TrustStore,
  clock: Clock,
): EndToEndPolicy {
  const senders = new Set(settings.senders);
  const recipients = new Set(settings.recipients);
  return {
    certificateRefusal: (pem) => encryptionCertificateRefusal(pem, trust, clock.now()),
    required: (sender, recipient) =>
      settings.required ||
      senders.has(formatParticipantId(sender)) ||
      recipients.has(formatParticipantId(recipient)),
  };
}

/** How long requests in flight may take to finish when the AP stops, in ms. */
const STOP_GRACE_MS = 5_000;
