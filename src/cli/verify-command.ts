import { X509Certificate } from 'node:crypto';
import { readFile, stat } from 'node:fs/promises';
import type { Command } from 'commander';
import { isAs4Capture } from '../as4/capture/capture-parse.js';
import { QerdsError, isQerdsError } from '../core/index.js';
import {
  chainVerification,
  formatPlainSummary,
  parseBundle,
  plainLanguages,
  plainSummary,
  verifyAny,
  verifyEvidenceChain,
  type PlainLanguage,
  type ProofVerification,
} from '../evidence/index.js';
import { detectFileKind } from '../evidence/verify-token.js';
import { readExportDir } from './export-dir.js';
import { isRemMessage } from '../smtp/rem-detect.js';
import {
  createTrustStore,
  devPkiLayout,
  loadSigningIdentity,
  loadTrustStore,
  type TrustStore,
} from '../pki/index.js';
import type { TrustList } from '../trust-list/index.js';

function collect(value: string, previous: string[] | undefined): string[] {
  return [...(previous ?? []), value];
}

interface VerifyOptions {
  trust?: string[];
  at?: string;
  content?: string[];
  json: boolean;
  xml: boolean;
  cert?: string;
  expectCert?: string;
  document?: string;
  decryptKey?: string;
  decryptCert?: string;
  lang?: string;
  plain?: boolean;
}

/**
 * An AS4 capture (HTTP dump, MIME message or SOAP envelope): signature, signer, receipt or error, payloads
 * (decrypted with --decrypt-key/--decrypt-cert when encrypted). Exit 0 only for VALID.
 */
async function verifyCapture(
  bytes: Buffer,
  trust: TrustStore,
  at: Date | undefined,
  opts: VerifyOptions,
): Promise<void> {
  if (opts.content || opts.document || opts.xml)
    throw new QerdsError(
      'CONFIG_INVALID',
      '--content, --document and --xml apply to evidence, timestamps and CMS, not to AS4 captures',
    );
  if (!opts.decryptKey !== !opts.decryptCert)
    throw new QerdsError('CONFIG_INVALID', '--decrypt-key and --decrypt-cert go together');
  // Loaded for captures only: the AS4 module (MIME, WS-Security, compression) is no part of verifying evidence.
  const { formatAs4CaptureReport, verifyAs4Capture } = await import('../as4/capture/capture-verify.js');
  const report = verifyAs4Capture(bytes, {
    trust,
    ...(at ? { at } : {}),
    ...(opts.cert ? { expectedCertificate: new X509Certificate(await readFile(opts.cert)) } : {}),
    ...(opts.decryptKey && opts.decryptCert
      ? { decryptionKeys: [loadSigningIdentity(opts.decryptCert, opts.decryptKey)] }
      : {}),
  });
  process.stdout.write(
    `${opts.json ? JSON.stringify({ kind: 'as4-capture', valid: report.verdict === 'VALID', ...report }, null, 2) : formatAs4CaptureReport(report)}\n`,
  );
  process.exitCode = report.verdict === 'VALID' ? 0 : 1;
}

/** Words, --json or --xml; exit 0 only when the proof is valid. */
function printResult(
  result: ProofVerification,
  opts: VerifyOptions,
  documents: readonly Buffer[] = [],
): void {
  if (opts.xml && result.xml === undefined)
    throw new QerdsError('CONFIG_INVALID', `--xml: no XML report for ${result.kind}; use --json`);
  const words = plainWanted(opts)
    ? `${formatPlainSummary(plainSummary(result, { lang: languageOf(opts), documents }))}\n\n${technicalHeading(languageOf(opts))}\n${result.words}`
    : result.words;
  process.stdout.write(`${opts.json ? result.json : opts.xml ? result.xml : words}\n`);
  process.exitCode = result.valid ? VERIFY_EXIT.valid : VERIFY_EXIT.notValid;
}

/**
 * The plain-language summary comes first for a person: with --lang or --plain, or when stdout is a terminal.
 * Piped output keeps the technical report alone (its first line `VALID` / `INVALID (…)`), which scripts read.
 */
function plainWanted(opts: VerifyOptions): boolean {
  return opts.plain ?? (opts.lang !== undefined || process.stdout.isTTY === true);
}

function languageOf(opts: VerifyOptions): PlainLanguage {
  const asked = opts.lang ?? (/^ja/i.test(process.env.LC_ALL ?? process.env.LANG ?? '') ? 'ja' : 'en');
  if (!(plainLanguages as readonly string[]).includes(asked))
    throw new QerdsError('CONFIG_INVALID', `--lang: ${asked} is not one of ${plainLanguages.join(', ')}`);
  return asked as PlainLanguage;
}

const technicalHeading = (lang: PlainLanguage) =>
  lang === 'ja' ? '--- 技術的な結果 ---' : '--- technical findings ---';

/** Exit codes of `qerds verify`: a verdict was given (valid or not), or none could be (usage, file, format). */
export const VERIFY_EXIT = Object.freeze({ valid: 0, notValid: 1, noVerdict: 2 });

/**
 * `qerds verify <file>`: the auditor's verb. Offline, from the file alone plus trust anchors. Detects
 * what the file is — sealed evidence XML, an evidence chain, an RFC 3161 timestamp (token or response),
 * a CMS/CAdES signature, a trusted list, a REM message, an AS4 capture — and validates it by its own
 * standard. Exit 0 only for a valid proof; 1 for any other verdict (INDETERMINATE is not proof); 2 when no
 * verdict could be given (missing file, bad option, a file of no known kind). With --json every outcome,
 * errors included, is one JSON object on stdout.
 */
export function registerVerify(program: Command): void {
  program
    .command('verify')
    .description(
      'verify a sealed evidence, an evidence chain (qerds export directory or bundle.json), an RFC 3161 timestamp, a CMS/CAdES signature, a trusted list, a REM message or an AS4 capture offline; exit 0 valid, 1 not valid (FAILED or INDETERMINATE), 2 no verdict (file missing, bad option, unknown kind)',
    )
    .argument(
      '<file>',
      'evidence XML, an export directory or its bundle.json, a REM message (.eml), a timestamp token / response or a CMS/CAdES signature (DER, BER or PEM), a trusted list (XML), or an AS4 capture (HTTP dump, MIME, SOAP)',
    )
    .option(
      '--trust <path>',
      'trust anchor / CRL (PEM file or directory), or an ETSI TS 119 612 trusted list (*.xml) signed by a certificate that chains to another --trust; repeat for more; default: the dev PKI CA in certs/dev',
      collect,
    )
    .option(
      '--at <time>',
      'validate as if the current time were this (ISO 8601): the newest timestamp must hold then',
    )
    .option(
      '--content <file>',
      'the user content: one file must match one part digest of the evidence; repeated, the parts in order; for a timestamp, the data of its imprint',
      collect,
    )
    .option(
      '--document <file>',
      'the signed document of a detached CMS/CAdES signature (for a timestamp: the data of its imprint)',
    )
    .option(
      '--json',
      'print the verification report as JSON (errors too: {"kind","valid":false,"error":{code,message}})',
      false,
    )
    .option('--xml', 'print the verdict as an ETSI TS 119 102-2 style validation report (XML)', false)
    .option(
      '--cert <pem>',
      'the signer (AS4 message, timestamp TSA, CMS/CAdES signer) must be exactly this certificate; also used when the file leaves it out',
    )
    .option('--expect-cert <pem>', 'alias of --cert')
    .option(
      '--decrypt-key <pem>',
      'AS4 capture or encrypted REM message: private key to decrypt with (with --decrypt-cert)',
    )
    .option('--decrypt-cert <pem>', 'AS4 capture: the certificate of --decrypt-key')
    .option(
      '--lang <lang>',
      'language of the plain-language summary printed first: en or ja (default: from LANG); implies --plain',
    )
    .option(
      '--plain',
      'print the plain-language summary (event in words, parties, time, documents) before the technical findings (default when stdout is a terminal)',
    )
    .option('--no-plain', 'print the technical findings only')
    .action(async (file: string, opts: VerifyOptions) => {
      if (opts.expectCert && opts.cert && opts.expectCert !== opts.cert) {
        return failed(
          opts,
          undefined,
          new QerdsError('CONFIG_INVALID', '--cert and --expect-cert name different certificates'),
        );
      }
      opts.cert ??= opts.expectCert;
      let kind: string | undefined;
      try {
        const isDir = (await stat(file)).isDirectory();
        const bytes = isDir ? Buffer.alloc(0) : await readFile(file);
        if (!isDir) kind = detectFileKind(bytes);
        const dev = devPkiLayout('certs/dev');
        const at = opts.at ? new Date(opts.at) : undefined;
        if (at && Number.isNaN(at.getTime()))
          throw new QerdsError('CONFIG_INVALID', `--at: not a time: ${opts.at}`);
        const { trust, trustList } = await trustOf(opts.trust ?? [dev.caCert, dev.caCrl], at);
        if (isDir) {
          kind = 'evidence-chain';
          if (opts.content || opts.document)
            throw new QerdsError(
              'CONFIG_INVALID',
              '--content applies to one evidence or timestamp, not to an export',
            );
          return printResult(
            chainVerification(
              await verifyEvidenceChain(readExportDir(file), { trust, ...(at ? { at } : {}) }),
            ),
            opts,
          );
        }
        // An AS4 capture names the ebMS 3 namespace, which neither evidence nor a timestamp token carries.
        // (A bundle or a REM message could quote that namespace: they are told by stricter markers first.)
        if (isAs4Capture(bytes) && !parseBundle(bytes) && !isRemMessage(bytes)) {
          kind = 'as4-capture';
          return await verifyCapture(bytes, trust, at, opts);
        }
        if (opts.document && opts.content)
          throw new QerdsError('CONFIG_INVALID', '--document and --content: give one');
        const contents = await Promise.all(
          [...(opts.content ?? []), ...(opts.document ? [opts.document] : [])].map((c) => readFile(c)),
        );
        if (!opts.decryptKey !== !opts.decryptCert)
          throw new QerdsError('CONFIG_INVALID', '--decrypt-key and --decrypt-cert go together');
        const decryption =
          opts.decryptKey && opts.decryptCert ? [loadSigningIdentity(opts.decryptCert, opts.decryptKey)] : [];
        // The REM verifier (S/MIME, CMS decryption) is loaded for a REM message only.
        const verifiers = isRemMessage(bytes)
          ? [(await import('../api/rem-proof-verifier.js')).createRemMessageVerifier(decryption)]
          : [];
        const expectedCertificate = opts.cert ? new X509Certificate(await readFile(opts.cert)) : undefined;
        const result = await verifyAny(bytes, {
          trust,
          ...(at ? { at } : {}),
          content: contents,
          verifiers,
          ...(trustList ? { trustList } : {}),
          ...(expectedCertificate ? { expectedCertificate } : {}),
        });
        printResult(result, opts, contents);
      } catch (e) {
        failed(opts, kind, e);
      }
    });
}

/**
 * No verdict: the file is missing or of no known kind, an option is wrong. With --json still one JSON object
 * on stdout (kind, valid false, error code and message); exit 2 either way.
 */
function failed(opts: VerifyOptions, kind: string | undefined, e: unknown): void {
  const code = isQerdsError(e)
    ? e.code
    : (e as NodeJS.ErrnoException).code === 'ENOENT'
      ? 'FILE_NOT_FOUND'
      : 'VERIFY_FAILED';
  const message =
    code === 'FILE_NOT_FOUND'
      ? `no such file: ${(e as NodeJS.ErrnoException).path ?? ''}`
      : (e as Error).message;
  if (opts.json)
    process.stdout.write(
      `${JSON.stringify({ kind: kind ?? 'unknown', valid: false, indication: null, error: { code, message } }, null, 2)}\n`,
    );
  else process.stderr.write(`qerds: ${code}: ${message}\n`);
  process.exitCode = VERIFY_EXIT.noVerdict;
}

/**
 * The --trust paths: PEM/DER files are anchors and CRLs; a path ending in .xml is a trusted list, whose signer
 * must chain to those anchors (a list cannot vouch for itself). The services the list has in force at the
 * validation time become further anchors, and evidence reports say whether seal and TSA are qualified.
 */
async function trustOf(
  paths: readonly string[],
  at: Date | undefined,
): Promise<{ trust: TrustStore; trustList?: TrustList }> {
  const lists = paths.filter((p) => /\.xml$/i.test(p));
  const anchors = paths.filter((p) => !/\.xml$/i.test(p));
  if (lists.length === 0) return { trust: loadTrustStore(anchors) };
  if (lists.length > 1) throw new QerdsError('CONFIG_INVALID', '--trust: one trusted list (*.xml) at most');
  if (anchors.length === 0)
    throw new QerdsError(
      'CONFIG_INVALID',
      '--trust: a trusted list needs another --trust with the anchor its signer chains to',
    );
  const base = loadTrustStore(anchors);
  // --at applies to the list signer too: a list is judged at the time the proof is. Loaded only with a list.
  const { loadTrustList } = await import('../trust-list/index.js');
  const trustList = await loadTrustList(await readFile(lists[0] as string, 'utf8'), {
    signerAnchors: base,
    ...(at ? { at } : {}),
  });
  const listed = trustList.trustStore(at).anchors;
  return { trust: createTrustStore([...base.anchors, ...listed], { crls: base.crls }), trustList };
}
