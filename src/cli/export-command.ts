import { createHash } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Command } from 'commander';
import { loadConfig } from '../config/index.js';
import { QerdsError, systemClock } from '../core/index.js';
import { EVIDENCE_BUNDLE_FORMAT } from '../evidence/index.js';
import { loadTrustStore, type TrustStore } from '../pki/index.js';
import { createStore, type Store } from '../store/index.js';
import type { ExportManifest } from './export-dir.js';

export { readExportDir, type ExportManifest } from './export-dir.js';

const sha256 = (data: Buffer | string) => createHash('sha256').update(data).digest('hex');

/**
 * Writes the archive export of one message: each evidence exactly as sealed (evidence/NN-Event.xml), the peers'
 * signed receipts a RelayAcceptance binds (receipts/, when there are any), the CA
 * certificates and CRLs of the AP's trust store (trust/), manifest.json (ids, events, SHA-256 of every
 * file), bundle.json (the manifest with each evidence XML inline: one file that `qerds verify` and
 * POST /api/v1/verify take as a whole chain) and README.txt. The evidence is issued at B-LT or B-LTA, so it
 * carries its own validation data; trust/ is for the auditor to compare with the published anchors, not
 * to trust blindly (whoever could forge the evidence could forge a CA shipped next to it).
 */
export async function exportMessageEvidence(options: {
  store: Store;
  messageId: string;
  outDir: string;
  trust: TrustStore;
  now?: Date;
}): Promise<ExportManifest> {
  const records = await options.store.listEvidence(options.messageId);
  if (records.length === 0) throw new QerdsError('NOT_FOUND', `no evidence for message ${options.messageId}`);
  mkdirSync(join(options.outDir, 'evidence'), { recursive: true });
  mkdirSync(join(options.outDir, 'trust'), { recursive: true });
  const evidence = records
    // Issue order: by event time, then by arrival (evidence returned by the peer may arrive out of order).
    .sort((a, b) => a.eventTime.getTime() - b.eventTime.getTime() || a.sequence - b.sequence)
    .map((r, i) => {
      const file = `evidence/${String(i + 1).padStart(2, '0')}-${r.event}.xml`;
      writeFileSync(join(options.outDir, file), r.xml);
      return {
        id: r.id,
        event: r.event,
        eventTime: r.eventTime.toISOString(),
        issuedBy: r.issuedBy,
        file,
        sha256: sha256(Buffer.from(r.xml, 'utf8')),
      };
    });
  const trust: { file: string; sha256: string }[] = [];
  const write = (file: string, data: Buffer | string) => {
    writeFileSync(join(options.outDir, file), data);
    trust.push({ file, sha256: sha256(data) });
  };
  options.trust.anchors.forEach((cert, i) => write(`trust/ca-${i + 1}.crt.pem`, cert.toString()));
  options.trust.crls.forEach((crl, i) => {
    const pem = typeof crl === 'string' || crl.toString('latin1').includes('-----BEGIN X509 CRL-----');
    write(`trust/crl-${i + 1}.crl${pem ? '.pem' : ''}`, crl);
  });
  // The receipts C2's RelayAcceptance names by digest: without them that evidence's binding could not be checked.
  const peerReceipts = await options.store.listPeerReceipts(options.messageId);
  if (peerReceipts.length > 0) mkdirSync(join(options.outDir, 'receipts'), { recursive: true });
  const receipts = peerReceipts.map((r, i) => {
    const file = `receipts/${String(i + 1).padStart(2, '0')}-receipt-${r.sha256.slice(0, 16)}.xml`;
    writeFileSync(join(options.outDir, file), r.xml);
    return { file, sha256: r.sha256, receivedAt: r.receivedAt.toISOString() };
  });
  const manifest: ExportManifest = {
    format: EVIDENCE_BUNDLE_FORMAT,
    messageId: options.messageId,
    exportedAt: (options.now ?? new Date()).toISOString(),
    evidence,
    trust,
    ...(receipts.length > 0 ? { receipts } : {}),
  };
  writeFileSync(join(options.outDir, 'manifest.json'), `${JSON.stringify(manifest, null, 2)}\n`);
  const bundle = { ...manifest, evidence: records.map((r, i) => ({ ...evidence[i]!, xml: r.xml })) };
  writeFileSync(join(options.outDir, 'bundle.json'), `${JSON.stringify(bundle, null, 2)}\n`);
  const fingerprints = options.trust.anchors
    .map((c) => `  ${c.subject.replace(/\n/g, ', ')}\n    SHA-256 ${c.fingerprint256}`)
    .join('\n');
  writeFileSync(
    join(options.outDir, 'README.txt'),
    [
      `Evidence of message ${options.messageId}, exported ${manifest.exportedAt} by qerds-ap.`,
      '',
      'evidence/     each evidence exactly as sealed (ETSI EN 319 522-3 XML, XAdES enveloped seal)',
      'trust/        the CA certificates and CRLs the issuing access point trusts',
      ...(receipts.length > 0
        ? [
            "receipts/     the signed AS4 receipts of the recipient's access point, as received; the",
            '              RelayAcceptance names each by its SHA-256 (sha256sum receipts/*)',
          ]
        : []),
      'manifest.json ids, events and the SHA-256 of every file',
      'bundle.json   the manifest with each evidence inline (verify it as one file)',
      '',
      'Verify offline (every seal, timestamp and the chain links; exit 0 only when all hold):',
      '',
      '  qerds verify . --trust trust/',
      '',
      'Before trusting trust/, compare the CA fingerprints with the ones the provider publishes:',
      fingerprints,
      '',
    ].join('\n'),
  );
  return manifest;
}

/** `qerds export <messageId> --out <dir>`: the archive export of one message's evidence, from the configured store. */
export function registerExport(program: Command): void {
  program
    .command('export')
    .description(
      'write the evidence of a message with what is needed to verify it offline (verify with: qerds verify <dir>)',
    )
    .argument('<messageId>', 'the message id (as the API reports it)')
    .requiredOption('-o, --out <dir>', 'output directory')
    .option('-c, --config <file>', 'YAML configuration (env QERDS_CONFIG)', process.env.QERDS_CONFIG)
    .action(async (messageId: string, opts: { out: string; config?: string }) => {
      const config = loadConfig({ file: opts.config });
      const trust = loadTrustStore(config.files.trust.map((file) => file.path));
      const store = await createStore(config.store);
      try {
        await store.migrate();
        const manifest = await exportMessageEvidence({
          store,
          messageId,
          outDir: opts.out,
          trust,
          now: systemClock.now(),
        });
        process.stdout.write(
          `exported ${manifest.evidence.length} evidence and ${manifest.trust.length} trust files of ${messageId} to ${opts.out}\n`,
        );
      } finally {
        await store.close();
      }
    });
}
