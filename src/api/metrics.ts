import type { RequestHandler } from 'express';
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import { isQerdsError, type TsaClient } from '../core/index.js';
import type { EvidenceIssuer, JobHandler } from '../pipeline/index.js';
import { pipelineStages, type PipelineStage, type StoreStats } from '../store/index.js';

export interface MetricsOptions {
  /** Counts from the store, read at each scrape (shared by every process of the AP). */
  readonly stats: () => Promise<StoreStats>;
  /** Also export Node's process metrics (CPU, memory, event loop). @defaultValue true */
  readonly processMetrics?: boolean;
  /** The CRLs and trusted lists this process holds now, read at each scrape. @defaultValue none */
  readonly validationData?: () => readonly HeldValidationData[];
  /** Time of a scrape, for the seconds left until each nextUpdate. @defaultValue the system time */
  readonly now?: () => Date;
}

/** A CRL (named by its issuer) or a trusted list (by its scheme operator) and when its successor is due. */
export interface HeldValidationData {
  readonly kind: 'crl' | 'trust-list';
  readonly name: string;
  readonly nextUpdate?: Date;
}

/** Prometheus metrics of one AP: a registry of its own (never prom-client's global one). */
export interface Metrics {
  readonly registry: Registry;
  /** GET /metrics in the Prometheus text format. */
  readonly handler: RequestHandler;
  /** The handler, timed (qerds_job_duration_seconds) and its failures counted (qerds_errors_total). */
  observeJob(stage: PipelineStage, handler: JobHandler): JobHandler;
  /** The TSA client, timed (qerds_tsa_request_duration_seconds); failures counted. */
  observeTsa(client: TsaClient): TsaClient;
  /** One TSA request timed elsewhere (an evidence worker thread's embedded TSA): qerds_tsa_request_duration_seconds. */
  recordTsa(seconds: number, error?: string): void;
  /** The evidence issuer, counting what it issues (qerds_evidence_issued_total). */
  observeEvidence(issuer: EvidenceIssuer): EvidenceIssuer;
  /** Counts an error by its stable code. */
  countError(code: string): void;
  /** One Evidence message returned to a sender's AP, with how many evidences it carried (qerds_evidence_per_returned_message). */
  observeEvidenceReturned(evidences: number): void;
  /** Counts evidence re-timestamped by the archive renewal (qerds_archive_renewed_total). */
  countArchiveRenewed(count: number): void;
  /** Counts CRLs and trusted lists a refresh accepted or refused (qerds_validation_data_refresh_total). */
  countValidationDataRefresh(
    kind: HeldValidationData['kind'],
    outcome: 'accepted' | 'refused',
    count: number,
  ): void;
}

/**
 * Metric names follow Prometheus conventions (base units, _total for counters). Gauges that describe
 * the AP as a whole (outbox depth, messages by state, evidence by event) come from the store at
 * scrape time, so any process gives the same answer; histograms and counters are this process's.
 */
export function createMetrics(options: MetricsOptions): Metrics {
  const registry = new Registry();
  if (options.processMetrics ?? true) collectDefaultMetrics({ register: registry, prefix: 'qerds_' });

  // One read of the store per scrape feeds the three gauges.
  let pending: Promise<StoreStats> | undefined;
  const stats = () => {
    pending ??= options.stats().finally(() => setTimeout(() => (pending = undefined), 0));
    return pending;
  };
  const fromStats = (
    name: string,
    help: string,
    label: string,
    pick: (s: StoreStats) => Readonly<Record<string, number>>,
    always: readonly string[] = [],
  ) =>
    new Gauge({
      name,
      help,
      labelNames: [label],
      registers: [registry],
      async collect() {
        this.reset();
        for (const key of always) this.set({ [label]: key }, 0);
        for (const [key, value] of Object.entries(pick(await stats()))) this.set({ [label]: key }, value);
      },
    });
  fromStats(
    'qerds_outbox_jobs',
    'Jobs waiting in the outbox (queued, running or awaiting retry), by pipeline stage',
    'stage',
    (s) => s.outboxByStage,
    pipelineStages,
  );
  fromStats(
    'qerds_dead_letters',
    'Jobs whose stage gave up (retry budget spent), kept for replay, by pipeline stage',
    'stage',
    (s) => s.deadLettersByStage,
    pipelineStages,
  );
  fromStats('qerds_messages', 'Messages in the store, by state', 'state', (s) => s.messagesByState);
  fromStats(
    'qerds_evidence',
    'Evidence stored (issued here or received), by event',
    'event',
    (s) => s.evidenceByEvent,
  );

  const jobDuration = new Histogram({
    name: 'qerds_job_duration_seconds',
    help: 'Run time of pipeline jobs in this process, by stage and outcome (done, retry, error)',
    labelNames: ['stage', 'outcome'],
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
    registers: [registry],
  });
  const tsaDuration = new Histogram({
    name: 'qerds_tsa_request_duration_seconds',
    help: 'Time to obtain an RFC 3161 timestamp, by outcome',
    labelNames: ['outcome'],
    buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [registry],
  });
  const evidenceIssued = new Counter({
    name: 'qerds_evidence_issued_total',
    help: 'Evidence sealed by this process, by event',
    labelNames: ['event'],
    registers: [registry],
  });
  const errors = new Counter({
    name: 'qerds_errors_total',
    help: 'Errors by stable code (job retries and failures, TSA failures)',
    labelNames: ['code'],
    registers: [registry],
  });

  const archiveRenewed = new Counter({
    name: 'qerds_archive_renewed_total',
    help: 'Evidence raised to B-LTA with a new archive timestamp by this process',
    registers: [registry],
  });
  // Seconds left, negative once past: `qerds_crl_next_update_seconds < 3600` alerts before evidence issuance
  // (B-LT needs a CRL covering the signing time) and peer validation (PKI_REVOCATION_STALE) degrade.
  const nextUpdateGauge = (kind: HeldValidationData['kind'], name: string, help: string, label: string) =>
    new Gauge({
      name,
      help,
      labelNames: [label],
      registers: [registry],
      collect() {
        this.reset();
        const now = (options.now?.() ?? new Date()).getTime();
        for (const held of options.validationData?.() ?? []) {
          if (held.kind === kind && held.nextUpdate)
            this.set({ [label]: held.name }, (held.nextUpdate.getTime() - now) / 1000);
        }
      },
    });
  nextUpdateGauge(
    'crl',
    'qerds_crl_next_update_seconds',
    'Seconds until the nextUpdate of the CRL held for each CA (negative: past, the CRL is stale)',
    'issuer',
  );
  nextUpdateGauge(
    'trust-list',
    'qerds_trust_list_next_update_seconds',
    'Seconds until the NextUpdate of each trusted list held (negative: past)',
    'scheme_operator',
  );
  const refreshes = new Counter({
    name: 'qerds_validation_data_refresh_total',
    help: 'CRLs and trusted lists a refresh of this process accepted (newer) or refused (unreadable, unsigned, older), by kind',
    labelNames: ['kind', 'outcome'],
    registers: [registry],
  });
  // How much grouping happens: 1 at low load; larger under load, when notify jobs share Evidence messages.
  const evidencePerMessage = new Histogram({
    name: 'qerds_evidence_per_returned_message',
    help: "Evidences carried by each AS4 Evidence message this process returned to a sender's AP",
    buckets: [1, 2, 4, 8, 16, 32, 64],
    registers: [registry],
  });
  const countError = (code: string) => errors.inc({ code });
  const codeOf = (error: unknown) => (isQerdsError(error) ? error.code : 'INTERNAL');

  return {
    registry,
    handler: async (_req, res) => {
      try {
        const body = await registry.metrics();
        res.type(registry.contentType).send(body);
      } catch (error) {
        res
          .status(503)
          .type('text/plain')
          .send(`metrics unavailable: ${(error as Error).message}\n`);
      }
    },
    observeJob(stage, handler) {
      return async (job, completion) => {
        const end = jobDuration.startTimer({ stage });
        try {
          const outcome = await handler(job, completion);
          end({ outcome: outcome.status });
          if (outcome.status === 'retry' || outcome.status === 'dead') countError(outcome.error);
          return outcome;
        } catch (error) {
          end({ outcome: 'error' });
          countError(codeOf(error));
          throw error;
        }
      };
    },
    observeTsa(client) {
      return {
        async timestamp(imprint) {
          const end = tsaDuration.startTimer();
          try {
            const token = await client.timestamp(imprint);
            end({ outcome: 'ok' });
            return token;
          } catch (error) {
            end({ outcome: 'error' });
            countError(codeOf(error));
            throw error;
          }
        },
      };
    },
    recordTsa(seconds, error) {
      tsaDuration.observe({ outcome: error === undefined ? 'ok' : 'error' }, seconds);
      if (error !== undefined) countError(error);
    },
    observeEvidence(issuer) {
      return {
        async issue(request) {
          const issued = await issuer.issue(request);
          evidenceIssued.inc({ event: issued.event });
          return issued;
        },
      };
    },
    countError,
    observeEvidenceReturned: (evidences) => evidencePerMessage.observe(evidences),
    countArchiveRenewed: (count) => archiveRenewed.inc(count),
    countValidationDataRefresh: (kind, outcome, count) => refreshes.inc({ kind, outcome }, count),
  };
}
