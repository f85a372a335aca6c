import type { Command } from 'commander';
import { loadConfig } from '../config/index.js';
import { parseParticipantId, QerdsError, systemClock, type ParticipantId } from '../core/index.js';
import { createConfiguredDirectory, transportProfilesFor } from '../access-point/directory-binding.js';
import {
  checkRecipient,
  createSmpDirectory,
  type CertificateCheck,
  type Directory,
  type RecipientCheck,
  type SmpIdentifier,
} from '../directory/index.js';
import { normaliseRecipient, peppolDocumentTypeMatcher, peppolSmpSignatureRules } from '../peppol/index.js';
import { loadTrustStore } from '../pki/index.js';

interface LookupOptions {
  config?: string;
  json: boolean;
  smp?: string;
  smpTrust?: string[];
  smpBinding: 'smp1' | 'smp2';
  documentType?: string;
  process?: string;
}

function collect(value: string, previous: string[] | undefined): string[] {
  return [...(previous ?? []), value];
}

/** `scheme::value` (SMP notation) → identifier. */
function smpIdentifier(text: string, option: string): SmpIdentifier {
  const i = text.indexOf('::');
  if (i === 0 || text.length === 0)
    throw new QerdsError('CONFIG_INVALID', `${option}: expected <scheme>::<value>, got "${text}"`);
  return i < 0 ? { value: text } : { scheme: text.slice(0, i), value: text.slice(i + 2) };
}

/**
 * The recipient as typed: `<scheme>:<value>` (e.g. `0188:5011001099999`), Peppol's `iso6523-actorid-upis::<ICD>:<id>`,
 * or a 13-digit corporate number alone (ICD 0188). The Peppol forms are checked as Peppol identifiers (a corporate
 * number's check digit included), so a typo is caught before any DNS or SMP request.
 */
function lookupParticipant(text: string): ParticipantId {
  const trimmed = text.trim();
  if (!trimmed.includes('::') && !/^[0-9]{13}$/.test(trimmed)) return parseParticipantId(trimmed);
  const peppol = normaliseRecipient(trimmed);
  return { scheme: peppol.icd, value: peppol.id };
}

/**
 * `qerds lookup <participant>`: the pre-send trust check from the shell. Uses the configured directory (static or SMP) and
 * trust store (or an SMP given with --smp). Exit 0 when the recipient is reachable and trusted, 1 otherwise.
 */
export function registerLookup(program: Command): void {
  program
    .command('lookup')
    .description(
      'check before sending: is the recipient reachable, by which AP, and is that AP trusted (exit 0 only when reachable)',
    )
    .argument(
      '<participant>',
      'recipient participant id, e.g. 0188:9876543210987, iso6523-actorid-upis::0188:9876543210987, or a 13-digit corporate number',
    )
    .option('-c, --config <file>', 'YAML configuration (env QERDS_CONFIG)', process.env.QERDS_CONFIG)
    .option('--json', 'print the check as JSON', false)
    .option(
      '--smp <url>',
      'ask this SMP (OASIS BDXR SMP 1.0 / Peppol / SMP 2.0) instead of the configured directory',
    )
    .option(
      '--smp-trust <path>',
      'anchors for the SMP signature (PEM file or directory); repeat for more; default: the AP trust store',
      collect,
    )
    .option('--smp-binding <binding>', 'SMP REST binding: smp1 or smp2', 'smp1')
    .option('--document-type <scheme::value>', 'document type (SMP service) to look up; required with --smp')
    .option('--process <scheme::value>', 'process identifier (default: any)')
    .action(async (participantText: string, opts: LookupOptions) => {
      const config = loadConfig({ file: opts.config });
      const trust = loadTrustStore(config.files.trust.map((file) => file.path));
      let directory: Directory;
      if (opts.smp) {
        if (!opts.documentType)
          throw new QerdsError('CONFIG_INVALID', '--document-type is required with --smp');
        if (opts.smpBinding !== 'smp1' && opts.smpBinding !== 'smp2')
          throw new QerdsError('CONFIG_INVALID', '--smp-binding must be smp1 or smp2');
        directory = createSmpDirectory({
          baseUrl: opts.smp,
          trust: opts.smpTrust ? loadTrustStore(opts.smpTrust) : trust,
          documentTypeId: smpIdentifier(opts.documentType, '--document-type'),
          processId: opts.process ? smpIdentifier(opts.process, '--process') : undefined,
          binding: opts.smpBinding,
          transportProfiles: transportProfilesFor(config.as4.profile),
          // The same Peppol rules as the configured directory (access-point/directory-binding.ts).
          documentTypeMatcher: peppolDocumentTypeMatcher,
          signatureRules: peppolSmpSignatureRules({
            allowRsaSha1: config.directory.smp?.allowRsaSha1 ?? false,
          }),
        });
      } else {
        directory = createConfiguredDirectory(config.directory, trust, systemClock, config.as4.profile);
      }
      let participant;
      try {
        participant = lookupParticipant(participantText);
      } catch (cause) {
        throw new QerdsError('CONFIG_INVALID', (cause as Error).message, { cause });
      }
      const check = await checkRecipient(directory, trust, participant);
      process.stdout.write(opts.json ? JSON.stringify(check, null, 2) + '\n' : formatCheck(check));
      process.exitCode = check.verdict === 'reachable' ? 0 : 1;
    });
}

export function formatCheck(check: RecipientCheck): string {
  const lines = [`recipient ${check.participant}: ${check.verdict.toUpperCase()}`];
  if (check.endpoint)
    lines.push(
      `  endpoint:           ${check.endpoint}${check.transportProfile ? ` (${check.transportProfile})` : ''}`,
    );
  if (check.source) lines.push(`  directory:          ${check.source}`);
  if (check.apCertificate) lines.push(`  AP certificate:     ${certificateLine(check.apCertificate)}`);
  if (check.encryptionCertificate)
    lines.push(`  encryption cert.:   ${certificateLine(check.encryptionCertificate)}`);
  if (check.minimumAuthenticationLevel)
    lines.push(`  minimum auth level: ${check.minimumAuthenticationLevel}`);
  if (check.error) lines.push(`  refused:            ${check.error.code}`);
  lines.push('grounds:', ...check.grounds.map((g) => `  - ${g}`));
  return lines.join('\n') + '\n';
}

function certificateLine(c: CertificateCheck): string {
  return `${c.subject} (issuer ${c.issuer}, valid to ${c.validTo}) ${c.trusted ? 'TRUSTED' : 'NOT TRUSTED'}${c.qualified ? ', qualified' : ''}`;
}
