import { createHash, type X509Certificate } from 'node:crypto';
import { QerdsError } from '../core/index.js';
import type { Finding, TrustStore } from '../pki/index.js';
import { loadTrustList, type TrustList } from '../trust-list/index.js';
import { formatCadesReport, formatReport, formatTimestampReport } from './format-report.js';
import { indicationOf } from './indication.js';
import { reportToJson } from './report-json.js';
import { reportToXml } from './report-xml.js';
import type { VerificationReport } from './types.js';
import { verifyEvidence } from './verify-evidence.js';
import {
  formatXadesDocumentReport,
  looksLikeSignedXml,
  verifyXadesDocument,
  xadesDocumentReportJson,
} from '../seal/index.js';
import { EVIDENCE_NS } from './names.js';
import { detectFileKind, verifyCadesFile, verifyTimestampFile } from './verify-token.js';

/**
 * The outcome of verifying any proof a user may hold, in the three forms a caller prints: words, JSON
 * text and (where a standard form exists) ETSI TS 119 102-2 style XML. `valid` is the only verdict a
 * program should act on: TOTAL-PASSED for evidence and timestamps, VALID for AS4 captures and REM
 * messages, every member valid and every link sound for an evidence chain.
 */
export interface ProofVerification {
  readonly kind: string;
  readonly valid: boolean;
  readonly words: string;
  /** JSON text of the kind's report. */
  readonly json: string;
  readonly xml?: string;
}

export interface ProofVerifyOptions {
  readonly trust: TrustStore;
  readonly at?: Date;
}

/**
 * A verifier for a format this module does not know (an AS4 capture, a REM .eml): plugged in by the
 * wiring layer (CLI, API) so that evidence/ need not import the protocol modules.
 */
export interface ProofVerifier {
  readonly kind: string;
  detect(bytes: Buffer): boolean;
  verify(bytes: Buffer, options: ProofVerifyOptions): Promise<ProofVerification>;
}

export interface VerifyAnyOptions extends ProofVerifyOptions {
  /** The user content for evidence (part digests) or a timestamp (its imprint). */
  readonly content?: readonly Buffer[];
  /** Tried first, in order. */
  readonly verifiers?: readonly ProofVerifier[];
  /** A loaded trusted list: evidence reports then say whether seal and TSA are qualified. */
  readonly trustList?: TrustList;
  /** `--cert`: the signer of a timestamp or CMS/CAdES signature must be this certificate (and may be left out of it). */
  readonly expectedCertificate?: X509Certificate;
}

/** Marks the JSON form of an evidence chain (`qerds export` manifest with the XML inline). */
export const EVIDENCE_BUNDLE_FORMAT = 'qerds-evidence-bundle/1';

/** One member of an evidence chain as an export lists it. */
export interface BundleEntry {
  readonly id?: string;
  readonly event?: string;
  /** File name inside the export. */
  readonly file?: string;
  /** Hex SHA-256 of the file the manifest declares. */
  readonly sha256?: string;
  /** The evidence XML exactly as sealed. */
  readonly xml: string;
}

export interface EvidenceBundle {
  readonly format?: string;
  readonly messageId?: string;
  readonly evidence: readonly BundleEntry[];
}

export interface ChainReport {
  readonly kind: 'evidence-chain';
  readonly valid: boolean;
  readonly messageId?: string;
  readonly members: readonly {
    readonly id?: string;
    readonly event?: string;
    readonly file?: string;
    readonly report: VerificationReport;
  }[];
  /** Problems of the chain as a whole: links, order, ids, digests. */
  readonly findings: Finding[];
}

/**
 * `qerds verify` / `POST /api/v1/verify` in one function: detects what `bytes` are — an evidence chain
 * (JSON bundle), a plugged-in kind (tried in order), evidence XML, an RFC 3161 timestamp, a CMS/CAdES
 * signature, a trusted list (DER, BER or PEM) — and validates each by its own standard. Throws
 * EVIDENCE_MALFORMED when the bytes are none of these (nothing to give a verdict on).
 */
export async function verifyAny(bytes: Buffer, options: VerifyAnyOptions): Promise<ProofVerification> {
  // The bundle first: its marker is exact, while a plugged-in detector may look for a namespace that a
  // bundled XML could mention.
  const bundle = parseBundle(bytes);
  if (bundle) return chainVerification(await verifyEvidenceChain(bundle, options));
  for (const verifier of options.verifiers ?? []) {
    if (verifier.detect(bytes))
      return verifier.verify(bytes, { trust: options.trust, ...(options.at ? { at: options.at } : {}) });
  }
  const at = options.at ? { at: options.at } : {};
  const contents = options.content ?? [];
  const expected = options.expectedCertificate ? { expectedCertificate: options.expectedCertificate } : {};
  const one = (what: string) => {
    if (contents.length > 1) throw new QerdsError('CONFIG_INVALID', `${what} covers one piece of data`);
    return contents[0] ? { content: contents[0] } : {};
  };
  const der = pemToDer(bytes) ?? bytes;
  const kind = detectFileKind(der);
  switch (kind) {
    case 'evidence-xml': {
      // Signed XML that is not evidence (XAdES of another product, a trusted list): judged by its own standard;
      // --content files are the documents its detached references cover.
      if (!bytes.includes(EVIDENCE_NS) && looksLikeSignedXml(bytes)) {
        const r = await verifyXadesDocument(bytes.toString('utf8'), {
          trust: options.trust,
          ...at,
          detached: contents.map((c) => ({ bytes: c })),
        });
        return {
          kind: r.kind,
          valid: r.indication === 'TOTAL-PASSED',
          words: formatXadesDocumentReport(r),
          json: xadesDocumentReportJson(r),
        };
      }
      const content =
        contents.length === 0 ? {} : { content: contents.length === 1 ? contents[0]! : contents };
      const r = await verifyEvidence(bytes.toString('utf8'), {
        trust: options.trust,
        ...at,
        ...content,
        ...(options.trustList ? { trustList: options.trustList } : {}),
      });
      return {
        kind: 'evidence-xml',
        valid: r.indication === 'TOTAL-PASSED',
        words: formatReport(r),
        json: reportToJson(r),
        xml: reportToXml(r),
      };
    }
    case 'timestamp-token': {
      const r = await verifyTimestampFile(der, {
        trust: options.trust,
        ...at,
        ...one('a timestamp'),
        ...expected,
      });
      return {
        kind: 'timestamp-token',
        valid: r.indication === 'TOTAL-PASSED',
        words: formatTimestampReport(r),
        json: reportToJson(r),
        xml: reportToXml(r),
      };
    }
    case 'cades': {
      const r = await verifyCadesFile(der, {
        trust: options.trust,
        ...at,
        ...one('a CMS signature'),
        ...expected,
      });
      return {
        kind: 'cades',
        valid: r.indication === 'TOTAL-PASSED',
        words: formatCadesReport(r),
        json: reportToJson(r),
      };
    }
    case 'trusted-list':
      return verifyTrustedListFile(bytes.toString('utf8'), options);
    case 'xades': {
      // Signed XML that is not evidence (XAdES or XMLDSig of another product): judged by its own standard;
      // --content files are the documents its detached references cover.
      const r = await verifyXadesDocument(bytes.toString('utf8'), {
        trust: options.trust,
        ...at,
        detached: contents.map((c) => ({ bytes: c })),
      });
      return {
        kind: r.kind,
        valid: r.indication === 'TOTAL-PASSED',
        words: formatXadesDocumentReport(r),
        json: xadesDocumentReportJson(r),
      };
    }
    case 'xml':
      throw new QerdsError(
        'EVIDENCE_MALFORMED',
        'XML without a signature: neither evidence, a trusted list nor XAdES',
      );
    case 'cms-other':
      throw new QerdsError(
        'EVIDENCE_MALFORMED',
        'a CMS message that is not SignedData (enveloped or other): nothing signed to verify',
      );
    default:
      throw new QerdsError(
        'EVIDENCE_MALFORMED',
        'not a proof this verifier knows: neither evidence XML, an evidence chain, a timestamp token or response, CAdES/CMS, a trusted list, nor a plugged-in kind',
      );
  }
}

/** PEM (`-----BEGIN CMS-----`, `PKCS7`, `TIMESTAMP …`) around DER: the DER, else undefined. */
function pemToDer(bytes: Buffer): Buffer | undefined {
  const text = bytes.subarray(0, 64).toString('latin1').trimStart();
  if (!text.startsWith('-----BEGIN ')) return undefined;
  const m = /-----BEGIN ([A-Z0-9 ]+)-----([\s\S]*?)-----END \1-----/.exec(bytes.toString('latin1'));
  return m ? Buffer.from(m[2]!.replace(/\s+/g, ''), 'base64') : undefined;
}

/**
 * An ETSI TS 119 612 trusted list: its XAdES signature by a signer that chains to the trust anchors given (a
 * list cannot vouch for itself). Past its NextUpdate it is still verified (an old list verifies old proofs).
 */
async function verifyTrustedListFile(xml: string, options: VerifyAnyOptions): Promise<ProofVerification> {
  const at = options.at ?? new Date();
  try {
    const list = await loadTrustList(xml, { signerAnchors: options.trust, at, allowStale: true });
    const report = {
      kind: 'trusted-list',
      valid: true,
      indication: 'TOTAL-PASSED',
      schemeOperator: list.schemeOperator,
      issued: list.issued.toISOString(),
      ...(list.nextUpdate ? { nextUpdate: list.nextUpdate.toISOString() } : {}),
      signer: list.signer.subject.replace(/\n/g, ', '),
      services: list.services.length,
      validationTime: at.toISOString(),
    };
    const words = [
      'VALID',
      'file:       ETSI TS 119 612 trusted list',
      `operator:   ${report.schemeOperator}`,
      `issued:     ${report.issued}${report.nextUpdate ? `, next update ${report.nextUpdate}${list.nextUpdate! < at ? ' (STALE)' : ''}` : ''}`,
      `signer:     ${report.signer}`,
      `services:   ${report.services}`,
      `validated:  as of ${report.validationTime}`,
    ].join('\n');
    return { kind: 'trusted-list', valid: true, words, json: JSON.stringify(report, null, 2) };
  } catch (e) {
    if (!(e instanceof QerdsError)) throw e;
    const findings = (e.details as { findings?: Finding[] } | undefined)?.findings ?? [
      { code: e.code, message: e.message, severity: 'error' as const },
    ];
    const { indication, subIndication } = indicationOf(
      findings.some((f) => f.severity === 'error')
        ? findings
        : [{ code: e.code, message: e.message, severity: 'error' }],
    );
    const report = {
      kind: 'trusted-list',
      valid: false,
      indication,
      ...(subIndication ? { subIndication } : {}),
      error: { code: e.code, message: e.message },
      findings,
      validationTime: at.toISOString(),
    };
    const words = [
      `INVALID (${indication}): ${subIndication ?? 'UNKNOWN'} — ${e.message}`,
      'file:       ETSI TS 119 612 trusted list',
      `validated:  as of ${report.validationTime}`,
    ].join('\n');
    return { kind: 'trusted-list', valid: false, words, json: JSON.stringify(report, null, 2) };
  }
}

/** The bundle in `bytes` when they are JSON of {@link EVIDENCE_BUNDLE_FORMAT}, else undefined. */
export function parseBundle(bytes: Buffer): EvidenceBundle | undefined {
  const head = bytes.subarray(0, 256).toString('utf8').trimStart();
  if (!head.startsWith('{')) return undefined;
  let value: unknown;
  try {
    value = JSON.parse(bytes.toString('utf8'));
  } catch {
    return undefined;
  }
  const v = value as Partial<EvidenceBundle>;
  if (v.format !== EVIDENCE_BUNDLE_FORMAT || !Array.isArray(v.evidence)) return undefined;
  return v as EvidenceBundle;
}

/**
 * Verifies every evidence of a chain, then the chain itself: each declared digest matches the XML, each
 * declared id/event matches the sealed one, all are about one message, every PreviousEvidence names a
 * member of the same issuer whose event time is not later, and ids are unique (the list order does not matter). Each issuer chains its own evidence, so
 * each issuer has exactly one start. A sealed evidence with a broken link is still authentic, but the chain is not proof of the
 * message's whole history: the verdict is invalid.
 */
export async function verifyEvidenceChain(
  bundle: EvidenceBundle,
  options: VerifyAnyOptions,
): Promise<ChainReport> {
  const findings: Finding[] = [];
  const fail = (code: string, message: string) => findings.push({ severity: 'error', code, message });
  const members: ChainReport['members'][number][] = [];
  if (bundle.evidence.length === 0) fail('CHAIN_EMPTY', 'the bundle holds no evidence');
  for (const [i, entry] of bundle.evidence.entries()) {
    const name = entry.file ?? entry.id ?? `#${i + 1}`;
    if (typeof entry.xml !== 'string') {
      fail('CHAIN_MEMBER_MISSING', `${name}: no evidence XML`);
      continue;
    }
    if (
      entry.sha256 !== undefined &&
      createHash('sha256').update(entry.xml, 'utf8').digest('hex') !== entry.sha256.toLowerCase()
    ) {
      fail(
        'CHAIN_DIGEST_MISMATCH',
        `${name}: SHA-256 differs from the manifest's (file changed after export)`,
      );
    }
    const report = await verifyEvidence(entry.xml, {
      trust: options.trust,
      ...(options.at ? { at: options.at } : {}),
    });
    members.push({
      ...(entry.id ? { id: entry.id } : {}),
      ...(entry.event ? { event: entry.event } : {}),
      ...(entry.file ? { file: entry.file } : {}),
      report,
    });
    if (report.indication !== 'TOTAL-PASSED')
      fail(
        'CHAIN_MEMBER_INVALID',
        `${name}: ${report.indication}${report.subIndication ? `/${report.subIndication}` : ''}`,
      );
    const data = report.evidence;
    if (data && entry.id !== undefined && data.id !== entry.id)
      fail('CHAIN_ID_MISMATCH', `${name}: sealed id ${data.id}, manifest says ${entry.id}`);
    if (data && entry.event !== undefined && data.event !== entry.event)
      fail('CHAIN_EVENT_MISMATCH', `${name}: sealed event ${data.event}, manifest says ${entry.event}`);
  }
  const sealed = members.flatMap((m) => (m.report.evidence ? [m.report.evidence] : []));
  // bundle.messageId is the exporting AP's own id of the message; the sealed one is the ERDS (ebMS) id.
  const messageIds = new Set(sealed.map((e) => e.messageId));
  if (messageIds.size > 1)
    fail(
      'CHAIN_MIXED_MESSAGES',
      `the evidence is about more than one message: ${[...messageIds].join(', ')}`,
    );
  // The order is the links' and the sealed event times', not the list's: evidence returned by the peer AP
  // may be stored (and so exported) in another order than it was issued.
  const byId = new Map<string, (typeof sealed)[number]>();
  for (const e of sealed) {
    if (byId.has(e.id)) fail('CHAIN_DUPLICATE_ID', `evidence ${e.id} appears twice`);
    byId.set(e.id, e);
  }
  for (const e of sealed) {
    if (e.previousEvidenceId === undefined) continue;
    const previous = byId.get(e.previousEvidenceId);
    if (!previous)
      fail(
        'CHAIN_LINK_MISSING',
        `${e.event} ${e.id}: its previous evidence ${e.previousEvidenceId} is not in the bundle`,
      );
    else if (previous.issuer.id !== e.issuer.id)
      fail('CHAIN_LINK_FOREIGN', `${e.event} ${e.id}: its previous evidence was issued by another ERDS`);
    else if (previous.eventTime.getTime() > e.eventTime.getTime())
      fail('CHAIN_ORDER', `${e.event} ${e.id}: event time before its previous evidence's`);
  }
  // Each issuer (ERDS) chains its own evidence: C3's first evidence of a message does not name C2's.
  // So every issuer's chain has exactly one start, and it is that issuer's first member.
  const issuers = new Set(sealed.map((e) => e.issuer.id));
  for (const issuer of issuers) {
    const own = sealed.filter((e) => e.issuer.id === issuer);
    const starts = own.filter((e) => e.previousEvidenceId === undefined);
    if (starts.length !== 1)
      fail('CHAIN_START', `issuer ${issuer}: ${starts.length} evidence start a chain, expected one`);
    else if (own.some((e) => e.eventTime.getTime() < starts[0]!.eventTime.getTime()))
      fail('CHAIN_ORDER', `issuer ${issuer}: evidence older than its chain start ${starts[0]!.id}`);
  }
  // The sender's AP holds the whole history from submission; the recipient's AP only its own part.
  if (
    sealed.length > 0 &&
    !sealed.some((e) => e.event === 'SubmissionAcceptance' || e.event === 'SubmissionRejection')
  ) {
    findings.push({
      severity: 'warning',
      code: 'CHAIN_NO_SUBMISSION',
      message: 'no submission evidence: the bundle shows part of the history only',
    });
  }
  const valid =
    findings.every((f) => f.severity !== 'error') &&
    members.length === bundle.evidence.length &&
    members.length > 0;
  return {
    kind: 'evidence-chain',
    valid,
    ...(bundle.messageId ? { messageId: bundle.messageId } : {}),
    members,
    findings,
  };
}

export function chainVerification(r: ChainReport): ProofVerification {
  const lines = [
    `${r.valid ? 'VALID' : 'INVALID'}: evidence chain of ${r.members.length} evidence${r.messageId ? ` for message ${r.messageId}` : ''}`,
    ...r.members.map(
      (m, i) =>
        `  ${i + 1}. ${m.event ?? m.report.evidence?.event ?? '?'} ${m.file ?? m.id ?? ''}: ${formatReport(m.report).split('\n')[0]}`,
    ),
    ...r.findings.map((f) => `  ${f.severity}: ${f.code}: ${f.message}`),
  ];
  const members = r.members.map((m) => ({
    ...(m.id ? { id: m.id } : {}),
    ...(m.event ? { event: m.event } : {}),
    ...(m.file ? { file: m.file } : {}),
    report: JSON.parse(reportToJson(m.report)) as unknown,
  }));
  const json = JSON.stringify(
    {
      kind: r.kind,
      valid: r.valid,
      ...(r.messageId ? { messageId: r.messageId } : {}),
      members,
      findings: r.findings,
    },
    null,
    2,
  );
  return { kind: r.kind, valid: r.valid, words: lines.join('\n'), json };
}
