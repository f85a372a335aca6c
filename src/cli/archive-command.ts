import type { Command } from 'commander';
import { renewArchiveTimestamps } from '../archive/index.js';
import { loadConfig } from '../config/index.js';
import { QerdsError, systemClock, type TsaClient } from '../core/index.js';
import { loadSigningIdentity, loadTrustStore } from '../pki/index.js';
import { createStore } from '../store/index.js';
import { createHttpTsaClient, createLocalTsaClient, createTimestampAuthority } from '../timestamp/index.js';

/**
 * `qerds archive renew`: the re-timestamping job of the evidence archive, straight on the configured store
 * (no running AP needed). Run it from a scheduler (cron, a systemd timer, a Kubernetes CronJob) daily:
 * evidence whose newest timestamp's TSA certificate expires within retention.renewBeforeDays is raised to
 * B-LTA with a new ArchiveTimeStamp. Exit 1 when some evidence was due but could not be renewed.
 */
export function registerArchive(program: Command): void {
  const command = program
    .command('archive')
    .description('the evidence archive: keep evidence verifiable for its retention period');
  command
    .command('renew')
    .description(
      "re-timestamp (XAdES B-LTA) stored evidence before its newest timestamp's TSA certificate expires",
    )
    .option('-c, --config <file>', 'YAML configuration (env QERDS_CONFIG)', process.env.QERDS_CONFIG)
    .option('--at <time>', 'run as if the current time were this (ISO 8601)')
    .option('--json', 'print the result as JSON')
    .action(async (opts: { config?: string; at?: string; json?: boolean }) => {
      const config = loadConfig({ file: opts.config });
      const now = opts.at ? new Date(opts.at) : systemClock.now();
      if (Number.isNaN(now.getTime())) throw new QerdsError('CONFIG_INVALID', `--at: not a time: ${opts.at}`);
      const trust = loadTrustStore(config.files.trust.map((file) => file.path));
      const tsa: TsaClient =
        config.tsa.mode === 'embedded'
          ? createLocalTsaClient(
              createTimestampAuthority({
                identity: loadSigningIdentity(config.files.tsa.cert.path, config.files.tsa.key.path),
                policyOid: config.tsa.policyOid,
              }),
            )
          : createHttpTsaClient({ url: config.tsa.url ?? '', timeoutMs: config.tsa.timeoutMs, trust });
      const store = await createStore({ ...config.store, retentionYears: config.retention.years });
      try {
        await store.migrate();
        const result = await renewArchiveTimestamps(store, {
          tsa,
          now,
          renewBeforeMs: config.retention.renewBeforeDays * 86_400_000,
          crls: trust.crls,
          certificates: [...trust.anchors],
        });
        if (opts.json) process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
        else {
          process.stdout.write(
            `scanned ${result.scanned} evidence, renewed ${result.renewed.length}, failed ${result.failed.length}\n`,
          );
          for (const f of result.failed) process.stdout.write(`  failed ${f.id}: ${f.error} (${f.reason})\n`);
        }
        process.exitCode = result.failed.length === 0 ? 0 : 1;
      } finally {
        await store.close();
      }
    });
}
