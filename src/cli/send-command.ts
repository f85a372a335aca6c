import { readFile } from 'node:fs/promises';
import { basename } from 'node:path';
import type { Command } from 'commander';

interface SendOptions {
  api: string;
  key: string;
  to: string;
  subject?: string;
  reference?: string;
  idempotencyKey?: string;
  type: string;
  json: boolean;
}

/** `qerds send`: what a sender's ERP does, from the shell: POST /api/v1/messages with an API key. */
export function registerSend(program: Command): void {
  program
    .command('send')
    .description('submit a document to an access point (C1 → C2) over the REST API')
    .argument('<files...>', 'payload files')
    .requiredOption('--to <participant>', 'recipient participant id, e.g. 0188:9876543210987')
    .option('--api <url>', 'base URL of the sender AP', 'http://127.0.0.1:8080')
    .option('--key <apiKey>', 'API key (or env QERDS_API_KEY)', process.env.QERDS_API_KEY ?? '')
    .option('--subject <text>', 'subject')
    .option('--reference <id>', "the sender's own reference (e.g. the ERP's document number), returned with the message")
    .option('--idempotency-key <key>', 'makes a retry safe: the same key and files answer with the first submission instead of a second one')
    .option('--type <mime>', 'content type of the files', 'application/xml')
    .option('--json', 'print the API answer as JSON', false)
    .action(async (files: string[], opts: SendOptions) => {
      const form = new FormData();
      form.set('metadata', JSON.stringify({ recipient: opts.to, subject: opts.subject, reference: opts.reference }));
      for (const file of files) {
        form.append('payload', new Blob([await readFile(file)], { type: opts.type }), basename(file));
      }
      const response = await fetch(new URL('/api/v1/messages', opts.api), {
        method: 'POST',
        headers: { authorization: `Bearer ${opts.key}`, ...(opts.idempotencyKey ? { 'idempotency-key': opts.idempotencyKey } : {}) },
        body: form,
      });
      const body = (await response.json()) as Record<string, unknown>;
      if (opts.json) process.stdout.write(JSON.stringify(body, null, 2) + '\n');
      else if (response.ok) process.stdout.write(`accepted: message ${String(body.id)} (${String(body.state)})\n`);
      else process.stdout.write(`refused (${response.status}): ${String(body.detail)}\n`);
      process.exitCode = response.ok ? 0 : 1;
    });
}
