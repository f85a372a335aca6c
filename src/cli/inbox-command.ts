import type { Command } from 'commander';
import { request, withApiTarget, type ApiTarget, type MessageJson } from './rest-client.js';

interface InboxOptions extends ApiTarget {
  limit: string;
  after?: string;
  json: boolean;
}

/**
 * `qerds inbox`: the messages waiting for (or handed over to) the recipient whose API key is given, newest
 * first, one per line. When more follow, the last line names the `--after` cursor of the next page.
 */
export function registerInbox(program: Command): void {
  withApiTarget(program.command('inbox'))
    .description("list the recipient's inbox at its access point (REST API), newest first")
    .option('--limit <n>', 'messages per page (1–500)', '100')
    .option('--after <cursor>', 'the cursor of the next page, as the previous page named it')
    .option('--json', 'print the messages as JSON', false)
    .action(async (opts: InboxOptions) => {
      const query = new URLSearchParams({ limit: opts.limit, ...(opts.after ? { after: opts.after } : {}) });
      const response = await request(opts, `/api/v1/inbox?${query}`);
      const messages = (await response.json()) as MessageJson[];
      const next = nextCursor(response.headers.get('link'));
      if (opts.json) {
        process.stdout.write(`${JSON.stringify(messages, null, 2)}\n`);
        return;
      }
      const lines = messages.map((m) =>
        [
          m.id,
          m.state.padEnd(11),
          m.submittedAt,
          `from ${m.sender}`,
          `${m.parts.length} part${m.parts.length === 1 ? '' : 's'}`,
          m.subject ?? '',
        ]
          .join('  ')
          .trimEnd(),
      );
      if (messages.length === 0) lines.push('(no messages)');
      if (next) lines.push(`more: qerds inbox --after ${next}`);
      process.stdout.write(`${lines.join('\n')}\n`);
    });
}

/** The `after` cursor of a `Link: <…?limit=…&after=…>; rel="next"` header, if any. */
export function nextCursor(link: string | null): string | undefined {
  const target = link?.match(/<([^>]*)>\s*;\s*rel="next"/)?.[1];
  return target === undefined
    ? undefined
    : (new URLSearchParams(target.split('?')[1] ?? '').get('after') ?? undefined);
}
