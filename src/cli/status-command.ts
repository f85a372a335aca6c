import type { Command } from 'commander';
import {
  evidenceLines,
  requestJson,
  withApiTarget,
  type ApiTarget,
  type EvidenceJson,
  type MessageJson,
} from './rest-client.js';

/** A message and its evidence chain, as the sender's (or recipient's) AP shows them. */
export async function messageStatus(
  target: ApiTarget,
  id: string,
): Promise<{ message: MessageJson; evidence: EvidenceJson[] }> {
  const path = `/api/v1/messages/${encodeURIComponent(id)}`;
  const [message, evidence] = await Promise.all([
    requestJson<MessageJson>(target, path),
    requestJson<EvidenceJson[]>(target, `${path}/evidence`),
  ]);
  return { message, evidence };
}

/** The human form of messageStatus(): the state first, then what the message is, then every evidence. */
export function statusLines({
  message,
  evidence,
}: {
  message: MessageJson;
  evidence: readonly EvidenceJson[];
}): string[] {
  return [
    `${message.id}: ${message.state}${message.lastError ? ` (${message.lastError})` : ''}`,
    `  from ${message.sender} to ${message.recipient}${message.subject ? `: ${message.subject}` : ''}${message.reference ? ` [reference ${message.reference}]` : ''}`,
    `  submitted ${message.submittedAt}, updated ${message.updatedAt}`,
    `evidence (${evidence.length}):`,
    ...evidenceLines(evidence),
  ];
}

/**
 * `qerds status <id>`: where a message is and the evidence so far. Exit 0 when the AP knows the message (any
 * state), 1 when it does not (or the call fails).
 */
export function registerStatus(program: Command): void {
  withApiTarget(program.command('status'))
    .description('show the state and the evidence chain of a message you sent or receive (REST API)')
    .argument('<id>', 'message id (as `qerds send` printed it)')
    .option('--json', 'print {message, evidence} as JSON', false)
    .action(async (id: string, opts: ApiTarget & { json: boolean }) => {
      const status = await messageStatus(opts, id);
      process.stdout.write(
        opts.json ? `${JSON.stringify(status, null, 2)}\n` : `${statusLines(status).join('\n')}\n`,
      );
    });
}
