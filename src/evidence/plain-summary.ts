import { createHash } from 'node:crypto';
import { evidenceEvents, reasonCodes, type EvidenceEvent, type ReasonCode } from '../core/index.js';
import {
  eventInWords,
  phrasesFor,
  reasonInWords,
  subIndicationInWords,
  type PlainLanguage,
} from './plain-texts.js';
import type { SubIndication } from './types.js';
import type { ProofVerification } from './verify-any.js';

/** valid: proof; invalid: a check ran and failed; undecided: nothing failed, but the proof could not be confirmed. */
export type PlainVerdict = 'valid' | 'invalid' | 'undecided';

export interface PlainDocument {
  readonly id: string;
  readonly contentType: string;
  /** Hex SHA-256 as the evidence records it. */
  readonly sha256: string;
  /** Whether one of the files the person gave has this digest; absent when none was given. */
  readonly matches?: boolean;
}

/**
 * What a verification means for a person: the verdict and its one-sentence reason, the event in words,
 * the parties, the times and the documents. Built from the verifier's own report (the same verdict as
 * `qerds verify`), never from a second reading of the file.
 */
export interface PlainSummary {
  readonly lang: PlainLanguage;
  readonly kind: string;
  readonly kindWords: string;
  readonly verdict: PlainVerdict;
  readonly verdictWords: string;
  readonly headline: string;
  /** Why it is not valid, in one sentence; absent when valid. */
  readonly reason?: string;
  readonly event?: {
    readonly name: string;
    readonly words: string;
    readonly reasonCode?: string;
    readonly reasonWords?: string;
  };
  readonly issuer?: string;
  readonly sender?: string;
  readonly recipient?: string;
  readonly messageId?: string;
  /** ISO 8601: the event time the issuer states. */
  readonly eventTime?: string;
  /** ISO 8601: the time a timestamp authority confirmed (the time that counts). */
  readonly timestampTime?: string;
  readonly signer?: string;
  readonly documents: readonly PlainDocument[];
  /** From a trusted list; absent when none was given. */
  readonly qualified?: { readonly seal?: boolean; readonly tsa?: boolean };
  /** The members of an evidence chain, in event-time order. */
  readonly timeline?: readonly PlainSummary[];
  /** The technical findings (errors and warnings), one line each. */
  readonly technical: readonly string[];
}

export interface PlainSummaryOptions {
  readonly lang: PlainLanguage;
  /** Files the person gave as the documents the proof is about. */
  readonly documents?: readonly Buffer[];
}

type Json = Record<string, unknown>;

/** The plain-language summary of a {@link ProofVerification} (from verifyAny). */
export function plainSummary(result: ProofVerification, options: PlainSummaryOptions): PlainSummary {
  const report = JSON.parse(result.json) as Json;
  const digests = new Set((options.documents ?? []).map((d) => createHash('sha256').update(d).digest('hex')));
  const given = (options.documents ?? []).length > 0;
  return summarize(result.kind, result.valid, report, options.lang, given ? digests : undefined);
}

function summarize(
  kind: string,
  valid: boolean,
  report: Json,
  lang: PlainLanguage,
  digests: Set<string> | undefined,
): PlainSummary {
  const p = phrasesFor(lang);
  const kindWords = p.kinds[kind] ?? kind;
  if (kind === 'evidence-chain') return summarizeChain(report, valid, lang, kindWords, digests);
  const verdict = verdictOf(valid, report);
  const base = {
    lang,
    kind,
    kindWords,
    verdict,
    verdictWords:
      verdict === 'valid' ? p.verdictValid : verdict === 'invalid' ? p.verdictInvalid : p.verdictUndecided,
    headline:
      verdict === 'valid' ? p.headlineValid : verdict === 'invalid' ? p.headlineInvalid : p.headlineUndecided,
    ...(verdict === 'valid' ? {} : { reason: reasonSentence(report, lang) }),
    technical: technicalLines(report),
  };
  const evidence = report.evidence as Json | undefined;
  const seal = report.seal as Json | undefined;
  const timestamp = (seal?.timestamp as Json | undefined) ?? undefined;
  const signer = seal?.signer as Json | undefined;
  const qualified = report.qualified as Json | undefined;
  if (evidence && typeof evidence.event === 'string') {
    const event = evidence.event as EvidenceEvent;
    const reason = evidence.reason as { code?: string } | undefined;
    const parts = Array.isArray(evidence.parts) ? (evidence.parts as Json[]) : [];
    return {
      ...base,
      event: {
        name: event,
        words: (evidenceEvents as readonly string[]).includes(event) ? eventInWords(event, lang) : event,
        ...(reason?.code ? { reasonCode: reason.code, ...wordsOfReason(reason.code, lang) } : {}),
      },
      issuer: named(evidence.issuer as Json | undefined),
      sender: participant(evidence.sender as Json | undefined),
      recipient: participant(evidence.recipient as Json | undefined),
      ...(typeof evidence.messageId === 'string' ? { messageId: evidence.messageId } : {}),
      ...(typeof evidence.eventTime === 'string' ? { eventTime: evidence.eventTime } : {}),
      ...(timestamp && timestamp.valid === true && typeof timestamp.genTime === 'string'
        ? { timestampTime: timestamp.genTime }
        : {}),
      ...(typeof signer?.subject === 'string' ? { signer: signer.subject } : {}),
      documents: parts.map((part) => document(part, digests)),
      ...(qualified
        ? {
            qualified: {
              seal: (qualified.seal as Json | undefined)?.qualified === true,
              tsa: (qualified.tsa as Json | undefined)?.qualified === true,
            },
          }
        : {}),
    };
  }
  if (kind === 'timestamp-token') {
    const tsa = report.tsa as Json | undefined;
    return {
      ...base,
      ...(typeof report.genTime === 'string' ? { timestampTime: report.genTime } : {}),
      ...(typeof tsa?.subject === 'string' ? { signer: tsa.subject } : {}),
      documents: [],
    };
  }
  if (kind === 'rem-message') {
    // EN 319 532-3 names each evidence part `<Event>.xml`: the event the REM message carries.
    const parts = Array.isArray(report.evidence) ? (report.evidence as Json[]) : [];
    const named = parts
      .map((e) => String(e.filename ?? '').replace(/\.xml$/i, ''))
      .find((name) => (evidenceEvents as readonly string[]).includes(name)) as EvidenceEvent | undefined;
    const signer = report.signer as Json | undefined;
    return {
      ...base,
      ...(named ? { event: { name: named, words: eventInWords(named, lang) } } : {}),
      ...(typeof report.signingTime === 'string' ? { eventTime: report.signingTime } : {}),
      ...(typeof signer?.subject === 'string' ? { signer: signer.subject } : {}),
      documents: [],
    };
  }
  return {
    ...base,
    ...(typeof report.messageId === 'string' ? { messageId: report.messageId } : {}),
    documents: [],
  };
}

function summarizeChain(
  report: Json,
  valid: boolean,
  lang: PlainLanguage,
  kindWords: string,
  digests: Set<string> | undefined,
): PlainSummary {
  const p = phrasesFor(lang);
  const members = (Array.isArray(report.members) ? (report.members as Json[]) : []).map((m) => {
    const r = (m.report ?? {}) as Json;
    return summarize('evidence-xml', r.indication === 'TOTAL-PASSED', r, lang, digests);
  });
  members.sort((a, b) => (a.eventTime ?? '').localeCompare(b.eventTime ?? ''));
  const anyFailed = members.some((m) => m.verdict === 'invalid');
  const anyUndecided = members.some((m) => m.verdict === 'undecided');
  // A broken link (missing member, order, mixed messages) is a check that ran and failed: invalid.
  const verdict: PlainVerdict = valid ? 'valid' : anyFailed || !anyUndecided ? 'invalid' : 'undecided';
  const first = members.find((m) => m.sender) ?? members[0];
  const reason =
    verdict === 'valid' ? undefined : (members.find((m) => m.verdict !== 'valid')?.reason ?? p.invalidChain);
  return {
    lang,
    kind: 'evidence-chain',
    kindWords,
    verdict,
    verdictWords:
      verdict === 'valid' ? p.verdictValid : verdict === 'invalid' ? p.verdictInvalid : p.verdictUndecided,
    headline:
      verdict === 'valid' ? p.headlineValid : verdict === 'invalid' ? p.headlineInvalid : p.headlineUndecided,
    ...(reason ? { reason } : {}),
    ...(first?.sender ? { sender: first.sender } : {}),
    ...(first?.recipient ? { recipient: first.recipient } : {}),
    ...(first?.messageId ? { messageId: first.messageId } : {}),
    documents: first?.documents ?? [],
    timeline: members,
    technical: technicalLines(report),
  };
}

/** EN 319 102-1: FAILED only when a check ran and failed; INDETERMINATE is "cannot be decided". */
function verdictOf(valid: boolean, report: Json): PlainVerdict {
  if (valid) return 'valid';
  if (report.indication === 'INDETERMINATE') return 'undecided';
  return 'invalid';
}

function reasonSentence(report: Json, lang: PlainLanguage): string {
  const sub = report.subIndication as SubIndication | undefined;
  if (sub) {
    try {
      return subIndicationInWords(sub, lang);
    } catch {
      // An unknown sub-indication falls through to the generic sentence.
    }
  }
  return phrasesFor(lang).unknownReason;
}

function wordsOfReason(code: string, lang: PlainLanguage): { reasonWords?: string } {
  if (!(code in reasonCodes)) return {};
  const words = reasonInWords(code as ReasonCode, lang);
  return words ? { reasonWords: words } : {};
}

function named(value: Json | undefined): string | undefined {
  if (!value) return undefined;
  const name = typeof value.name === 'string' ? value.name : undefined;
  const id = typeof value.id === 'string' ? value.id : undefined;
  return name && id ? `${name} (${id})` : (name ?? id);
}

function participant(value: Json | undefined): string | undefined {
  if (!value) return undefined;
  const id = value.id as { scheme?: string; value?: string } | undefined;
  const text = id?.scheme && id.value ? `${id.scheme}:${id.value}` : undefined;
  const name = typeof value.name === 'string' ? value.name : undefined;
  return name && text ? `${name} (${text})` : (name ?? text);
}

function document(part: Json, digests: Set<string> | undefined): PlainDocument {
  const sha256 = String(part.sha256 ?? '');
  const plaintext = typeof part.plaintextSha256 === 'string' ? part.plaintextSha256 : undefined;
  return {
    id: String(part.partId ?? ''),
    contentType: String(part.contentType ?? ''),
    sha256,
    ...(digests
      ? {
          matches:
            digests.has(sha256.toLowerCase()) ||
            (plaintext !== undefined && digests.has(plaintext.toLowerCase())),
        }
      : {}),
  };
}

function technicalLines(report: Json): string[] {
  const findings = Array.isArray(report.findings) ? (report.findings as Json[]) : [];
  return findings
    .filter((f) => f.severity === 'error' || f.severity === 'warning')
    .map((f) => `${String(f.severity)}: ${String(f.code)}: ${String(f.message).replace(/\s*\n\s*/g, ', ')}`);
}

/**
 * The summary as text for a terminal (`qerds verify`): verdict, one-sentence reason, then the facts,
 * times in UTC and in `timeZone` (the machine's by default).
 */
export function formatPlainSummary(summary: PlainSummary, timeZone?: string): string {
  const p = phrasesFor(summary.lang);
  const lines = [`${summary.verdictWords.toUpperCase()}: ${summary.headline}`];
  if (summary.reason) lines.push(`  ${summary.reason}`);
  lines.push(`${p.kind}: ${summary.kindWords}`);
  lines.push(...factLines(summary, timeZone));
  for (const [i, member] of (summary.timeline ?? []).entries()) {
    lines.push(
      `${i + 1}. ${member.verdictWords}: ${member.event?.words ?? member.kindWords}${member.timestampTime ? ` — ${showTime(member.timestampTime, summary.lang, timeZone)}` : ''}`,
    );
  }
  return lines.join('\n');
}

function factLines(s: PlainSummary, timeZone: string | undefined): string[] {
  const p = phrasesFor(s.lang);
  const lines: string[] = [];
  if (s.event)
    lines.push(
      `${p.event}: ${s.event.words}${s.event.reasonCode ? ` (${s.event.reasonCode}${s.event.reasonWords ? `: ${s.event.reasonWords}` : ''})` : ''}`,
    );
  if (s.issuer) lines.push(`${p.issuer}: ${s.issuer}`);
  if (s.sender) lines.push(`${p.sender}: ${s.sender}`);
  if (s.recipient) lines.push(`${p.recipient}: ${s.recipient}`);
  if (s.timestampTime) lines.push(`${p.timestamp}: ${showTime(s.timestampTime, s.lang, timeZone)}`);
  else if (s.eventTime)
    lines.push(`${p.time}: ${showTime(s.eventTime, s.lang, timeZone)} — ${p.noTimestamp}`);
  if (s.messageId) lines.push(`${p.message}: ${s.messageId}`);
  for (const d of s.documents) {
    lines.push(
      `${p.documents}: ${d.id} (${d.contentType}) SHA-256 ${d.sha256}${d.matches === undefined ? '' : d.matches ? ` — ${p.matches}` : ` — ${p.doesNotMatch}`}`,
    );
  }
  if (s.signer) lines.push(`${p.signer}: ${s.signer}`);
  if (s.qualified)
    lines.push(
      `${p.qualifiedSeal}: ${s.qualified.seal ? p.yes : p.no}; ${p.qualifiedTsa}: ${s.qualified.tsa ? p.yes : p.no}`,
    );
  return lines;
}

/** A time in UTC and in the given (or the machine's) time zone, in the summary's language. */
export function showTime(iso: string, lang: PlainLanguage, timeZone?: string): string {
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return iso;
  const locale = lang === 'ja' ? 'ja-JP' : 'en-GB';
  const local = new Intl.DateTimeFormat(locale, {
    dateStyle: 'long',
    timeStyle: 'long',
    ...(timeZone ? { timeZone } : {}),
  }).format(date);
  return `${local} (${date.toISOString().replace('.000Z', 'Z')} ${phrasesFor(lang).timeUtc})`;
}
