import type { ParticipantId } from '../core/index.js';

/** Where a participant is and how to reach it: the answer of a directory (static file, SMP, BDXL). */
export interface DirectoryEntry {
  readonly participant: ParticipantId;
  readonly name: string;
  /** AS4 endpoint of the participant's access point. */
  readonly endpoint: string;
  /** PEM of that AP's e-seal certificate, when the directory pins it. */
  readonly apCertificatePem?: string;
}

export interface Directory {
  lookup(participant: ParticipantId): Promise<DirectoryEntry | undefined>;
}
