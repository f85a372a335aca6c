import { createHash } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import { basename, join, resolve } from 'node:path';
import type { Command } from 'commander';
import { request, requestJson, withApiTarget, type ApiTarget, type MessageJson } from './rest-client.js';

interface PickupOptions extends ApiTarget {
  out: string;
}

/**
 * `qerds pickup <id>`: the recipient takes a message's content over the REST API (its API key identifies it,
 * REQ4): every part is downloaded into `--out`, its SHA-256 checked against the one the AP announced, and the
 * AP records the ContentHandover evidence. Exit 0 when every part arrived intact, 1 otherwise.
 */
export function registerPickup(program: Command): void {
  withApiTarget(program.command('pickup'))
    .description('download the content of a message in your inbox (REST API); the AP records the handover')
    .argument('<id>', 'message id (as `qerds inbox` lists it)')
    .option('--out <dir>', 'directory to write the parts into', '.')
    .action(async (id: string, opts: PickupOptions) => {
      const message = await requestJson<MessageJson>(opts, `/api/v1/inbox/${encodeURIComponent(id)}`);
      await mkdir(opts.out, { recursive: true });
      let damaged = 0;
      for (const part of message.parts) {
        const bytes = Buffer.from(
          await (
            await request(
              opts,
              part.href ?? `/api/v1/inbox/${encodeURIComponent(id)}/parts/${encodeURIComponent(part.partId)}`,
            )
          ).arrayBuffer(),
        );
        const file = join(resolve(opts.out), safeName(part.filename ?? part.partId));
        await writeFile(file, bytes);
        const sha256 = createHash('sha256').update(bytes).digest('hex');
        const intact = sha256 === part.sha256;
        if (!intact) damaged++;
        process.stdout.write(
          `${intact ? 'saved' : 'DAMAGED'} ${file} (${bytes.length} bytes, ${part.contentType}, sha256 ${sha256}${intact ? '' : `, announced ${part.sha256}`})\n`,
        );
      }
      process.stdout.write(
        `${message.id}: ${message.parts.length - damaged} of ${message.parts.length} part(s) picked up from ${message.sender}\n`,
      );
      process.exitCode = damaged === 0 ? 0 : 1;
    });
}

/** A file name from the sender, made harmless: no directory part (threat: `../../.bashrc`), no leading dot. */
function safeName(name: string): string {
  const plain = [...basename(name.replace(/\\/g, '/'))]
    .map((c) => (c.charCodeAt(0) < 0x20 ? '_' : c))
    .join('');
  return plain === '' || plain === '.' || plain === '..' ? 'part' : plain.replace(/^\.+/, '_');
}
