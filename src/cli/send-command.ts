import { readFile } from 'node:fs/promises';
import { basename } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { InvalidArgumentError, type Command } from 'commander';
import {
  ApiAnswerError,
  finalStates,
  request,
  withApiTarget,
  type ApiTarget,
  type MessageJson,
} from './rest-client.js';
import { messageStatus, statusLines } from './status-command.js';

interface SendOptions extends ApiTarget {
  to: string;
  subject?: string;
  reference?: string;
  idempotencyKey?: string;
  type: string;
  json: boolean;
  wait: boolean;
  timeout: number;
  interval: number;
}

/** Exit code of `qerds send --wait` when the timeout passed before the message reached a final state. */
export const SEND_WAIT_TIMED_OUT = 3;

/**
 * `qerds send`: what a sender's ERP does, from the shell: POST /api/v1/messages with an API key.
 * Exit codes: 0 accepted (with --wait: delivered); 1 refused at submission, or (with --wait) rejected or
 * failed; 2 usage; 3 (--wait) still in flight when --timeout passed.
 */
export function registerSend(program: Command): void {
  withApiTarget(program.command('send'))
    .description('submit a document to an access point (C1 → C2) over the REST API')
    .argument('<files...>', 'payload files')
    .requiredOption('--to <participant>', 'recipient participant id, e.g. 0188:9876543210987')
    .option('--subject <text>', 'subject')
    .option(
      '--reference <id>',
      "the sender's own reference (e.g. the ERP's document number), returned with the message",
    )
    .option(
      '--idempotency-key <key>',
      'makes a retry safe: the same key and files answer with the first submission instead of a second one',
    )
    .option('--type <mime>', 'content type of the files', 'application/xml')
    .option('--json', 'print the API answer as JSON (with --wait: {message, evidence})', false)
    .option(
      '--wait',
      'wait until the message is delivered, rejected or failed; print the outcome and the evidence list',
      false,
    )
    .option(
      '--timeout <seconds>',
      'with --wait: give up waiting after this long (exit 3; the message goes on)',
      positive,
      600,
    )
    .option('--interval <ms>', 'with --wait: how often to ask the AP', positive, 1000)
    .addHelpText(
      'after',
      '\nExit codes: 0 accepted (--wait: delivered), 1 refused, rejected or failed, 2 usage, 3 --wait timed out.',
    )
    .action(async (files: string[], opts: SendOptions) => {
      const accepted = await submit(files, opts);
      if (!accepted) return;
      if (!opts.wait) {
        process.stdout.write(
          opts.json
            ? `${JSON.stringify(accepted, null, 2)}\n`
            : `accepted: message ${accepted.id} (${accepted.state})\n`,
        );
        return;
      }
      if (!opts.json) process.stderr.write(`accepted: message ${accepted.id}; waiting for delivery…\n`);
      const status = await waitForFinalState(opts, accepted.id, opts.timeout * 1000, opts.interval);
      process.stdout.write(
        opts.json ? `${JSON.stringify(status, null, 2)}\n` : `${statusLines(status).join('\n')}\n`,
      );
      const state = status.message.state;
      process.exitCode = state === 'delivered' ? 0 : finalStates.includes(state) ? 1 : SEND_WAIT_TIMED_OUT;
      if (process.exitCode === SEND_WAIT_TIMED_OUT)
        process.stderr.write(
          `qerds: still ${state} after ${opts.timeout} s; the AP goes on (qerds status ${accepted.id})\n`,
        );
    });
}

/** POSTs the submission; the accepted message, or undefined once a refusal (4xx problem) is printed and exit 1 set. */
async function submit(files: readonly string[], opts: SendOptions): Promise<MessageJson | undefined> {
  const form = new FormData();
  form.set(
    'metadata',
    JSON.stringify({ recipient: opts.to, subject: opts.subject, reference: opts.reference }),
  );
  for (const file of files)
    form.append('payload', new Blob([await readFile(file)], { type: opts.type }), basename(file));
  try {
    const response = await request(opts, '/api/v1/messages', {
      method: 'POST',
      headers: opts.idempotencyKey ? { 'idempotency-key': opts.idempotencyKey } : {},
      body: form,
    });
    return (await response.json()) as MessageJson;
  } catch (error) {
    // A refusal is an answer, not a failure of the command: printed on stdout like an acceptance, exit 1.
    if (!(error instanceof ApiAnswerError) || error.status >= 500) throw error;
    const body = error.body as { detail?: unknown } | undefined;
    process.stdout.write(
      opts.json
        ? `${JSON.stringify(error.body, null, 2)}\n`
        : `refused (${error.status}): ${String(body?.detail ?? error.message)}\n`,
    );
    process.exitCode = 1;
    return undefined;
  }
}

/** Asks the AP every `intervalMs` until the message is in a final state or `timeoutMs` passed; the last status either way. */
async function waitForFinalState(target: ApiTarget, id: string, timeoutMs: number, intervalMs: number) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const status = await messageStatus(target, id);
    if (finalStates.includes(status.message.state) || Date.now() >= deadline) return status;
    await sleep(Math.min(intervalMs, Math.max(0, deadline - Date.now())));
  }
}

/** A usage error (exit 2) unless the option's value is a positive number. */
function positive(value: string): number {
  const n = Number(value);
  if (!(n > 0)) throw new InvalidArgumentError('must be a positive number');
  return n;
}
