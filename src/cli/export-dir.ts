import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { QerdsError } from '../core/index.js';
import { EVIDENCE_BUNDLE_FORMAT, type EvidenceBundle } from '../evidence/index.js';

// Apart from export-command (which needs the store and the configuration) so that `qerds verify <dir>`
// reads an export without loading them.

/** manifest.json of an export: what `qerds verify <dir>` checks the files against. */
export interface ExportManifest {
  readonly format: typeof EVIDENCE_BUNDLE_FORMAT;
  readonly messageId: string;
  readonly exportedAt: string;
  readonly evidence: readonly {
    id: string;
    event: string;
    eventTime: string;
    issuedBy: string;
    file: string;
    sha256: string;
  }[];
  readonly trust: readonly { file: string; sha256: string }[];
  /**
   * The peers' signed AS4 receipts the message's RelayAcceptance binds by SHA-256 (a Peppol AP returns no evidence
   * of its own), byte for byte as received. Absent when there are none.
   */
  readonly receipts?: readonly { file: string; sha256: string; receivedAt: string }[];
}

/**
 * An export directory as an evidence bundle: each file read back, its SHA-256 taken from the manifest
 * (the chain verifier compares). A file the manifest lists but that is gone fails the whole verification.
 */
export function readExportDir(dir: string): EvidenceBundle {
  let manifest: ExportManifest;
  try {
    manifest = JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8')) as ExportManifest;
  } catch (cause) {
    throw new QerdsError('EVIDENCE_MALFORMED', `${dir}: not an export (no readable manifest.json)`, {
      cause,
    });
  }
  if (manifest.format !== EVIDENCE_BUNDLE_FORMAT)
    throw new QerdsError(
      'EVIDENCE_MALFORMED',
      `${dir}/manifest.json: format is not ${EVIDENCE_BUNDLE_FORMAT}`,
    );
  const base = resolve(dir);
  return {
    format: manifest.format,
    messageId: manifest.messageId,
    evidence: manifest.evidence.map((e) => {
      // Threat: a crafted manifest naming ../../etc/… makes the verifier read (and echo) files outside the export.
      const path = resolve(base, e.file);
      if (!path.startsWith(`${base}/`))
        throw new QerdsError('EVIDENCE_MALFORMED', `${e.file}: outside the export`);
      return { id: e.id, event: e.event, file: e.file, sha256: e.sha256, xml: readFileSync(path, 'utf8') };
    }),
  };
}
