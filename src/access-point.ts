import { randomBytes, type X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { pino, type Logger } from 'pino';
import { createHttpApp, createMetrics } from './api/index.js';
import { ACTION_DISPATCH, createAs4Transport, createAs4Endpoint, ERDS_SERVICE } from './access-point/as4-binding.js';
import { crlAsPem } from './as4/index.js';
import { loadAs4Security, relayRetryPolicy } from './access-point/as4-security.js';
import { loadAs4TlsClient } from './access-point/as4-tls.js';
import { configuredFile, keyOf, type QerdsConfig } from './config/index.js';
import { assuranceLevelOf, formatParticipantId, QerdsError, systemClock, uuidIdGenerator, type Clock, type IdGenerator, type TsaClient } from './core/index.js';
import { encryptionCertificateRefusal } from './directory/index.js';
import { createConfiguredDirectory } from './access-point/directory-binding.js';
import { createEvidenceIssuer, createEvidenceVerifier } from './access-point/evidence-binding.js';
import { checkSealNamesAp } from './access-point/seal-names-ap.js';
import { createOutboxDispatcher, PickupLinks, type EndToEndPolicy, type PipelineContext } from './pipeline/index.js';
import { createConfiguredQueue, registerWorkers, selectedStages, stageConcurrency, type WorkerSelection } from './access-point/queue-binding.js';
import { createSmtpInboundBinding, createSmtpIntakeBinding } from './access-point/smtp-binding.js';
import { createMailTransport } from './access-point/mail-binding.js';
import { createSmtpRelayTransport, routeTransport } from './access-point/smtp-relay-transport.js';
import { createSmtpRelayListener } from './access-point/smtp-relay-listener.js';
import { createApServer } from './access-point/http-server.js';
import { createRecipientChannels } from './access-point/recipient-channels.js';
import { createSenderWebhooks } from './access-point/sender-webhooks.js';
import { apiRecipientLinks } from './api/index.js';
import { createOnBehalfSealer, openRemoteSealSigners } from './access-point/remote-seal-binding.js';

import { createCrlSet, createTrustStore, devPkiLayout, loadSigningIdentity, readTrustMaterial, type SigningIdentity, type TrustStore } from './pki/index.js';
import { createStore } from './store/index.js';
import { createArchiveRenewalJob } from './archive/index.js';
import { createLiveTrustLists, loadConfiguredTrustLists, requireListedService } from './trust-list/index.js';
import { createValidationDataRefresh } from './access-point/validation-data-refresh.js';
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
  /** Where the PINs of senders' remote e-seals (`accounts[].remoteSeal.pkcs11.pinEnv`) are read. @defaultValue process.env */
  readonly env?: NodeJS.ProcessEnv;
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
  /** The inbound (non-ERDS, MX-style) SMTP listener's bound address, when smtp.inbound is set and started. */
  readonly smtpInboundAddress?: { readonly host: string; readonly port: number };
  /** The relay listener's bound address (REM SMTP binding between APs), when smtp.relay is set and started. */
  readonly smtpRelayAddress?: { readonly host: string; readonly port: number };
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
  configuredFile(keyOf('pki.sealCert', config.pki.sealCert, `ap/${config.pki.apName} e-seal certificate`), sealFiles.cert, 'run `qerds pki init` for a dev PKI');
  configuredFile(keyOf('pki.sealKey', config.pki.sealKey, `ap/${config.pki.apName} e-seal key`), sealFiles.key);
  const identity = loadSigningIdentity(sealFiles.cert, sealFiles.key);
  checkSealNamesAp(identity.certificate, config.ap.id, log);
  const trustFiles = config.pki.trust ?? [dev.caCert, dev.caCrl];
  for (const file of trustFiles) configuredFile(config.pki.trust ? 'pki.trust' : keyOf('pki.trust', undefined, 'CA certificate and CRL'), file);
  const trustMaterial = readTrustMaterial(trustFiles);
  // The CRLs are a live set (pki.crlRefresh replaces them while the AP runs): everything below reads
  // trust.crls at each use (sealer, archive renewal, TLS client), never a copy taken now.
  const crls = createCrlSet(trustMaterial.crls, trustMaterial.anchors);
  const trust = createTrustStore(trustMaterial.anchors, { crls });
  const as4 = loadAs4Security(config, identity);
  const trustLists = await loadConfiguredTrustLists(config.pki.trustLists, clock.now());
  const liveTrustLists = trustLists.length > 0 ? createLiveTrustLists(config.pki.trustLists, trustLists) : undefined;
  const trustList = liveTrustLists?.view;
  if (config.pki.listedPeersOnly && !trustList) throw new QerdsError('CONFIG_INVALID', 'pki.listedPeersOnly needs at least one pki.trustLists entry');
  const peerTrust = config.pki.listedPeersOnly && trustList ? requireListedService(trust, trustList, 'QERDS') : trust;
  // Senders' remote e-seals: opened (logged in) now, so that a wrong PIN stops the AP here, not a submission later.
  // Only processes that take submissions (REST, SMTP) seal; a worker-only process does not log in to the tokens.
  const remoteSeals = (options.api ?? true) ? await openRemoteSealSigners(config.accounts, options.env ?? process.env) : new Map<string, never>();
  const as4Tls = loadAs4TlsClient(config, trust);

  const tsa = config.tsa.mode === 'embedded' ? createTimestampAuthority({ identity: loadSigningIdentity(configuredFile(keyOf('tsa.cert', config.tsa.cert, 'tsa/tsa.crt.pem'), config.tsa.cert ?? dev.tsaCert), configuredFile(keyOf('tsa.key', config.tsa.key, 'tsa/tsa.key.pem'), config.tsa.key ?? dev.tsaKey)), policyOid: config.tsa.policyOid, clock }) : undefined;
  const store = await createStore({ ...config.store, clock, retentionYears: config.retention.years, exclusive: true });
  const validationData = createValidationDataRefresh({
    crls,
    ...(liveTrustLists ? { trustLists: liveTrustLists } : {}),
    files: trustFiles,
    certificates: [...trust.anchors, identity.certificate, ...(tsa ? [tsa.certificate] : [])],
    settings: config.pki.crlRefresh,
    clock,
    log,
    onRefreshed: (kind, outcome, count) => metrics.countValidationDataRefresh(kind, outcome, count),
  });
  const metrics = createMetrics({ stats: () => store.stats(), validationData: () => validationData.held(), now: () => clock.now() });
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
  const directory = createConfiguredDirectory(config.directory, trust, clock);
  const localAccounts = new Map([...config.apiKeys, ...config.accounts].map((k) => [k.participant, k.name]));
  const directoryNames = new Map(config.directory.participants.map((p) => [p.id, p.name]));

  const mail = createMailTransport(config, identity, log);
  // The REM SMTP binding to peers whose directory entry names an smtp:// endpoint; TLS as the AS4 client's.
  const smtpRelay = createSmtpRelayTransport({
    identity,
    trust,
    directory,
    from: { address: config.smtp.outbound?.from ?? `rem@${config.smtp.domain}`, name: config.ap.name },
    policies: config.ap.policyIds,
    tls: config.as4.tls.ca ? { ca: config.as4.tls.ca.map((file) => readFileSync(file)), crl: [] } : { ca: trust.anchors.map((a) => a.toString()), crl: trust.crls.map(crlAsPem) },
    timeoutMs: config.relay.timeoutMs,
    clock,
    log: log.child({ component: 'smtp-relay-out' }),
  });
  // Without a configured secret the links are valid in this process only (fine for one embedded AP).
  const pickupLinks = new PickupLinks({ secret: config.pickup.secret ?? randomBytes(32), ttlSeconds: config.pickup.ttlSeconds, clock, baseUrl: () => config.http.publicUrl ?? url });
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
      longTerm: { level: config.evidence.level, crls: () => trust.crls, certificates: validationCertificates(trust, [identity.certificate, ...(tsa ? [tsa.certificate] : [])]) },
    })),
    evidenceVerifier: createEvidenceVerifier(trust),
    transport: routeTransport(createAs4Transport({ self, identity, trust, peerTrust, timeoutMs: config.relay.timeoutMs, as4, directory, tls: as4Tls, onEvidenceReturned: metrics.observeEvidenceReturned }), smtpRelay),
    participants: {
      details: async (id, identification) => ({ id, identification, name: localAccounts.get(`${id.scheme}:${id.value}`) }),
      isLocal: async (id) => localAccounts.has(`${id.scheme}:${id.value}`),
    },
    relayRetry: relayRetryPolicy(config.relay, as4.pmodes.find((p) => p.mep === 'push' && p.service === ERDS_SERVICE && p.action === ACTION_DISPATCH)),
    relayEvidenceTimeoutMs: config.relay.evidenceTimeoutMs,
    peerSeals: { ownSealFingerprint: identity.certificate.fingerprint256, unpinnedPeers: config.pki.unpinnedPeers },
    webhookRetry: config.webhooks,
    ...(mail ? { mail } : {}),
    // Notices point at this AP's API: its public URL, else the address it listens on (known once started).
    recipients: createRecipientChannels(config, apiRecipientLinks(() => config.http.publicUrl ?? url), log, { mail, personalPickupLink: (id, recipient) => pickupLinks.buildPickupLink(id, recipient) }),
    senderWebhooks: createSenderWebhooks(config, () => config.http.publicUrl ?? url, log),
    // The dispatcher is made below; poke is only called once requests flow.
    poke: () => dispatcher.poke(),
    endToEnd: endToEndPolicy(config.policy.endToEnd, trust, clock),
    ...(remoteSeals.size > 0 ? { onBehalfSealer: createOnBehalfSealer({ signers: remoteSeals, blobs: store.blobs, tsa: tsaClient, clock, ids }) } : {}),
    pickupLinks,
  };
  registerWorkers(queue, context, stages, metrics.observeJob, (stage) => stageConcurrency(config, stage));
  // Every process runs a dispatcher: it feeds the queue and is the sweeper that re-dispatches what a
  // crashed process or a flushed Redis lost (leases run out). Several on one store share the work.
  const dispatcher = createOutboxDispatcher({ store, queue, clock, log, pollIntervalMs: config.queue.pollIntervalMs, idlePollMaxMs: config.queue.idlePollMaxMs, leaseMs: config.queue.leaseMs, retry: { baseMs: config.relay.baseDelayMs, maxMs: config.relay.maxDelayMs, maxAttempts: config.queue.maxAttempts } });

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
          certificates: validationCertificates(trust, [identity.certificate, ...(tsa ? [tsa.certificate] : [])]),
          onRenewed: (count) => metrics.countArchiveRenewed(count),
        })
      : undefined;

  const app = createHttpApp({
    ctx: context,
    trust,
    ...(trustList ? { trustList } : {}),
    apiKeys: config.apiKeys,
    adminKeys: config.adminKeys,
    accounts: config.accounts,
    policy: { minSubmission: assuranceLevelOf(config.policy.minSubmissionAssurance)!, minHandover: assuranceLevelOf(config.policy.minHandoverAssurance)! },
    oauth2: config.oauth2,
    pickupMaxAttempts: config.pickup.maxAttempts,
    maxPayloadBytes: config.limits.maxPayloadBytes,
    as4: createAs4Endpoint(context, { identity, trust: peerTrust, maxMessageBytes: config.limits.maxPayloadBytes * 2, envelopeLimits: config.as4.envelope, as4, mutualTls: Boolean(config.http.tls?.requestClientCert || config.http.tls?.requireClientCert) }),
    tsa: tsa && config.tsa.serve ? createTsaRouter(tsa) : undefined,
    metrics: metrics.handler,
    readiness: {
      store: async () => void (await store.listMessages({ limit: 1 })),
      ...(queuePing ? { redis: queuePing } : {}),
      validationData: () => validationData.readiness(),
    },
  });
  const { server, scheme } = createApServer(app, config.http.tls);
  const smtpIntake = config.smtp.enabled && serveHttp ? createSmtpIntakeBinding(context, config, log) : undefined;
  const smtpInbound = serveHttp ? createSmtpInboundBinding(context, config, log) : undefined;
  const smtpRelayListener = serveHttp ? createSmtpRelayListener(context, config, { trust: peerTrust, decryption: as4.encryption, log }) : undefined;
  let url = '';
  let startupBlobSweep: Promise<void> | undefined;
  const sweepOrphanBlobs = async () => {
    const { removed } = await store.sweepOrphanBlobs({ graceMs: config.store.orphanGraceSeconds * 1000 });
    if (removed > 0) log.info({ removed }, 'orphan blobs removed');
  };

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
        url = `${scheme}://${config.http.host}:${port}`;
      }
      dispatcher.start();
      validationData.start();
      // Once per interval across the cluster (BullMQ job scheduler), not once per process: N worker
      // processes must not each re-timestamp the same due evidence.
      queue.registerSweep('outbox', config.queue.sweepIntervalMs, () => dispatcher.sweep());
      if (archiveRenewal) queue.registerSweep('archive-renewal', config.retention.renewIntervalMs, async () => void (await archiveRenewal.runOnce()));
      if (config.store.orphanSweepSeconds > 0) {
        // Blobs that a crash (or a refusal whose discard did not run) left unreferenced: at start, in the
        // background, and then once per interval. Threat: a disk filled by uploads nobody will ever read.
        startupBlobSweep = sweepOrphanBlobs().catch((error: unknown) => log.error({ err: error }, 'orphan blob sweep failed'));
        queue.registerSweep('orphan-blobs', config.store.orphanSweepSeconds * 1000, sweepOrphanBlobs);
      }
      await smtpIntake?.start();
      await smtpInbound?.start();
      await smtpRelayListener?.start();
      log.info({ url, seal: identity.certificate.subject, queue: config.queue.kind, workers: stages }, 'access point started');
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
      as4Tls.close();
      mail?.close();
      smtpRelay.close();
      for (const signer of remoteSeals.values()) signer.close();
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

/** The end-to-end rules of `policy.endToEnd`, checking the recipient's certificate against the AP's trust store. */
function endToEndPolicy(settings: QerdsConfig['policy']['endToEnd'], trust: TrustStore, clock: Clock): EndToEndPolicy {
  const senders = new Set(settings.senders);
  const recipients = new Set(settings.recipients);
  return {
    certificateRefusal: (pem) => encryptionCertificateRefusal(pem, trust, clock.now()),
    required: (sender, recipient) => settings.required || senders.has(formatParticipantId(sender)) || recipients.has(formatParticipantId(recipient)),
  };
}

/** How long requests in flight may take to finish when the AP stops, in ms. */
const STOP_GRACE_MS = 5_000;

function requireValue<T>(value: T | undefined, key: string): T {
  if (value === undefined) throw new QerdsError('CONFIG_INVALID', `${key} is required`);
  return value;
}
