import { X509Certificate } from 'node:crypto';
import { readFile, stat } from 'node:fs/promises';
import type { Command } from 'commander';
import { formatAs4CaptureReport, isAs4Capture, verifyAs4Capture } from '../as4/index.js';
import { QerdsError } from '../core/index.js';
import { chainVerification, parseBundle, verifyAny, verifyEvidenceChain, type ProofVerification } from '../evidence/index.js';
import { readExportDir } from './export-command.js';
import { createRemMessageVerifier, remMessageVerifier } from '../api/index.js';
import { createTrustStore, devPkiLayout, loadSigningIdentity, loadTrustStore, type TrustStore } from '../pki/index.js';
import { loadTrustList, type TrustList } from '../trust-list/index.js';

function collect(value: string, previous: string[] | undefined): string[] {
  return [...(previous ?? []), value];
}

interface VerifyOptions {
  trust?: string[];
  at?: string;
  content?: string[];
  json: boolean;
  xml: boolean;
  expectCert?: string;
  decryptKey?: string;
  decryptCert?: string;
}

/**
 * An AS4 capture (HTTP dump, MIME message or SOAP envelope): signature, signer, receipt or error, payloads
 * (decrypted with --decrypt-key/--decrypt-cert when encrypted). Exit 0 only for VALID.
 */
async function verifyCapture(bytes: Buffer, trust: TrustStore, at: Date | undefined, opts: VerifyOptions): Promise<void> {
  if (opts.content || opts.xml) throw new QerdsError('CONFIG_INVALID', '--content and --xml apply to evidence and timestamps, not to AS4 captures');
  if (!opts.decryptKey !== !opts.decryptCert) throw new QerdsError('CONFIG_INVALID', '--decrypt-key and --decrypt-cert go together');
  const report = verifyAs4Capture(bytes, {
    trust,
    ...(at ? { at } : {}),
    ...(opts.expectCert ? { expectedCertificate: new X509Certificate(await readFile(opts.expectCert)) } : {}),
    ...(opts.decryptKey && opts.decryptCert ? { decryptionKeys: [loadSigningIdentity(opts.decryptCert, opts.decryptKey)] } : {}),
  });
  process.stdout.write(`${opts.json ? JSON.stringify(report, null, 2) : formatAs4CaptureReport(report)}\n`);
  process.exitCode = report.verdict === 'VALID' ? 0 : 1;
}

/** Words, --json or --xml; exit 0 only when the proof is valid. */
function printResult(result: ProofVerification, opts: VerifyOptions): void {
  if (opts.xml && result.xml === undefined) throw new QerdsError('CONFIG_INVALID', `--xml: no XML report for ${result.kind}; use --json`);
  process.stdout.write(`${opts.json ? result.json : opts.xml ? result.xml : result.words}\n`);
  process.exitCode = result.valid ? 0 : 1;
}

/**
 * `qerds verify <file>`: the auditor's verb. Offline, from the file alone plus trust anchors. Detects
 * what the file is — sealed evidence XML, or an RFC 3161 timestamp (token or response, DER) — and
 * validates it. Exit 0 only for TOTAL-PASSED; 1 for anything else (INDETERMINATE is not proof).
 */
export function registerVerify(program: Command): void {
  program
    .command('verify')
    .description('verify a sealed evidence, an evidence chain (qerds export directory or bundle.json), an RFC 3161 timestamp or an AS4 capture offline; exit 0 only when it is valid')
    .argument('<file>', 'evidence XML, an export directory or its bundle.json, a REM message (.eml), a timestamp token / response (DER), or an AS4 capture (HTTP dump, MIME, SOAP)')
    .option(
      '--trust <path>',
      'trust anchor / CRL (PEM file or directory), or an ETSI TS 119 612 trusted list (*.xml) signed by a certificate that chains to another --trust; repeat for more; default: the dev PKI CA in certs/dev',
      collect,
    )
    .option('--at <time>', 'validate as if the current time were this (ISO 8601): the newest timestamp must hold then')
    .option(
      '--content <file>',
      'the user content: one file must match one part digest of the evidence; repeated, the parts in order; for a timestamp, the data of its imprint',
      collect,
    )
    .option('--json', 'print the verification report as JSON', false)
    .option('--xml', 'print the verdict as an ETSI TS 119 102-2 style validation report (XML)', false)
    .option('--expect-cert <pem>', 'AS4 capture: the signer must be exactly this certificate')
    .option('--decrypt-key <pem>', 'AS4 capture or encrypted REM message: private key to decrypt with (with --decrypt-cert)')
    .option('--decrypt-cert <pem>', 'AS4 capture: the certificate of --decrypt-key')
    .action(async (file: string, opts: VerifyOptions) => {
      const isDir = (await stat(file)).isDirectory();
      const bytes = isDir ? Buffer.alloc(0) : await readFile(file);
      const dev = devPkiLayout('certs/dev');
      const at = opts.at ? new Date(opts.at) : undefined;
      if (at && Number.isNaN(at.getTime())) throw new QerdsError('CONFIG_INVALID', `--at: not a time: ${opts.at}`);
      const { trust, trustList } = await trustOf(opts.trust ?? [dev.caCert, dev.caCrl], at);
      if (isDir) {
        if (opts.content) throw new QerdsError('CONFIG_INVALID', '--content applies to one evidence or timestamp, not to an export');
        return printResult(chainVerification(await verifyEvidenceChain(readExportDir(file), { trust, ...(at ? { at } : {}) })), opts);
      }
      // An AS4 capture names the ebMS 3 namespace, which neither evidence nor a timestamp token carries.
      // (A bundle or a REM message could quote that namespace: they are told by stricter markers first.)
      if (isAs4Capture(bytes) && !parseBundle(bytes) && !remMessageVerifier.detect(bytes)) return verifyCapture(bytes, trust, at, opts);
      const contents = await Promise.all((opts.content ?? []).map((c) => readFile(c)));
      if (!opts.decryptKey !== !opts.decryptCert) throw new QerdsError('CONFIG_INVALID', '--decrypt-key and --decrypt-cert go together');
      const decryption = opts.decryptKey && opts.decryptCert ? [loadSigningIdentity(opts.decryptCert, opts.decryptKey)] : [];
      const verifiers = [createRemMessageVerifier(decryption)];
      const result = await verifyAny(bytes, { trust, ...(at ? { at } : {}), content: contents, verifiers, ...(trustList ? { trustList } : {}) });
      printResult(result, opts);
    });
}

/**
 * The --trust paths: PEM/DER anchors and CRLs as before; a path ending in .xml is a trusted list, whose signer
 * must chain to those anchors (a list cannot vouch for itself). The services the list has in force at the
 * validation time become further anchors, and evidence reports say whether seal and TSA are qualified.
 */
async function trustOf(paths: readonly string[], at: Date | undefined): Promise<{ trust: TrustStore; trustList?: TrustList }> {
  const lists = paths.filter((p) => /\.xml$/i.test(p));
  const anchors = paths.filter((p) => !/\.xml$/i.test(p));
  if (lists.length === 0) return { trust: loadTrustStore(anchors) };
  if (lists.length > 1) throw new QerdsError('CONFIG_INVALID', '--trust: one trusted list (*.xml) at most');
  if (anchors.length === 0) throw new QerdsError('CONFIG_INVALID', '--trust: a trusted list needs another --trust with the anchor its signer chains to');
  const base = loadTrustStore(anchors);
  // --at applies to the list signer too: a list is judged at the time the proof is.
  const trustList = await loadTrustList(await readFile(lists[0] as string, 'utf8'), { signerAnchors: base, ...(at ? { at } : {}) });
  const listed = trustList.trustStore(at).anchors;
  return { trust: createTrustStore([...base.anchors, ...listed], { crls: base.crls }), trustList };
}
