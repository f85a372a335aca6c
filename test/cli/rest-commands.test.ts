import { accessPointInternals } from '../../src/access-point/internals.js';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  RECIPIENT,
  SENDER,
  startTwoAccessPoints,
  type TwoAccessPoints,
} from '../../src/harness/two-access-points.js';
import { initDevPki } from '../../src/pki/index.js';
import { qerdsInProcess } from '../helpers/cli.js';
import { waitFor } from '../helpers/wait.js';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

interface Run {
  readonly status: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/**
 * The CLI's REST commands as a sender and a recipient use them, each run as its own `qerds` process
 * against two real APs on loopback: send --wait (outcome and evidence, exit codes), inbox, pickup, status.
 */
describe('qerds send --wait, inbox, pickup, status against running APs', () => {
  const work = mkdtempSync(join(tmpdir(), 'qerds-cli-rest-'));
  let net: TwoAccessPoints;
  const invoice = join(work, 'invoice-42.xml');
  const content = '<Invoice><ID>INV-42</ID></Invoice>';

  /** One `qerds` process; asynchronous, so that the APs in this process keep serving while it runs. */
  const qerdsWith = (env: Record<string, string>, ...args: string[]) =>
    new Promise<Run>((resolveRun) => {
      execFile(
        process.execPath,
        [join(root, 'bin/qerds.js'), ...args],
        {
          cwd: work,
          encoding: 'utf8',
          env: { ...process.env, QERDS_DEBUG: '', QERDS_API: '', QERDS_API_KEY: '', ...env },
        },
        (error, stdout, stderr) => {
          resolveRun({ status: error ? ((error as { code?: unknown }).code as number) : 0, stdout, stderr });
        },
      );
    });
  const qerds = (...args: string[]) => qerdsWith({}, ...args);
  /**
   * The same in this process, for every run after a command's first launch (the first test launches send,
   * inbox, pickup and status for real; there send --wait runs beside the others, which in-process runs could not).
   */
  const inProcessWith = (env: Record<string, string>, ...args: string[]) =>
    qerdsInProcess(args, { env: { QERDS_DEBUG: '', QERDS_API: '', QERDS_API_KEY: '', ...env } });
  const inProcess = (...args: string[]) => inProcessWith({}, ...args);
  const asSender = () => ['--api', net.c2.url, '--key', SENDER.key];
  const asRecipient = () => ['--api', net.c3.url, '--key', RECIPIENT.key];

  beforeAll(async () => {
    writeFileSync(invoice, content);
    const pkiDir = join(work, 'pki');
    await initDevPki({ dir: pkiDir });
    net = await startTwoAccessPoints({ outDir: join(work, 'aps'), pkiDir });
  }, 120_000);
  afterAll(async () => {
    await net?.stop();
    rmSync(work, { recursive: true, force: true });
  });

  it('send --wait waits while the recipient lists its inbox and picks the invoice up, then prints delivered and the evidence (exit 0)', async () => {
    const sending = qerds(
      'send',
      ...asSender(),
      '--to',
      RECIPIENT.id,
      '--subject',
      'Invoice 42',
      '--reference',
      'PO-42',
      '--wait',
      '--interval',
      '200',
      invoice,
    );

    // The recipient's side, while `send --wait` runs: the message arrives in its inbox at C3.
    const arrived = await waitFor(
      async () =>
        (await accessPointInternals(net.c3).context.store.listMessages()).find(
          (m) => m.subject === 'Invoice 42' && m.state === 'consigned',
        ),
      { timeoutMs: 60_000, what: 'the invoice consigned at C3' },
    );
    const inbox = await qerds('inbox', ...asRecipient());
    expect(inbox.status, inbox.stderr).toBe(0);
    expect(inbox.stdout).toMatch(
      new RegExp(`^${arrived.id}  consigned .* from ${SENDER.id}  1 part  Invoice 42$`, 'm'),
    );

    const out = join(work, 'picked');
    const pickup = await qerds('pickup', ...asRecipient(), '--out', out, arrived.id);
    expect(pickup.status, pickup.stderr).toBe(0);
    expect(readFileSync(join(out, 'invoice-42.xml'), 'utf8')).toBe(content);
    expect(pickup.stdout).toMatch(
      /^saved .*invoice-42\.xml \(\d+ bytes, application\/xml, sha256 [0-9a-f]{64}\)$/m,
    );
    expect(pickup.stdout).toContain(`1 of 1 part(s) picked up from ${SENDER.id}`);

    const sent = await sending;
    expect(sent.status, sent.stdout + sent.stderr).toBe(0);
    const [head, ...rest] = sent.stdout.trimEnd().split('\n');
    expect(head).toMatch(/^\S+: delivered$/);
    expect(sent.stdout).toContain('[reference PO-42]');
    const events = rest.filter((l) => /^\s+\d+ /.test(l)).map((l) => l.trim().split(/\s+/)[1]);
    expect(events).toEqual([
      'SubmissionAcceptance',
      'RelayAcceptance',
      'ContentConsignment',
      'ContentHandover',
    ]);
    expect(sent.stderr).toMatch(/^accepted: message \S+; waiting for delivery/);

    // qerds status at C2 says the same, and --json carries the chain with its links.
    const id = head!.split(':')[0]!;
    const status = await qerds('status', ...asSender(), id);
    expect(status.status, status.stderr).toBe(0);
    expect(status.stdout.split('\n')[0]).toBe(`${id}: delivered`);
    const json = JSON.parse((await inProcess('status', ...asSender(), '--json', id)).stdout) as {
      message: { state: string };
      evidence: { event: string; href: string }[];
    };
    expect(json.message.state).toBe('delivered');
    expect(json.evidence.map((e) => e.href).every((h) => h.startsWith('/api/v1/evidence/'))).toBe(true);
  }, 180_000);

  it('send --wait to a recipient nobody serves: refused at once, exit 1, no waiting', async () => {
    const result = await inProcess('send', ...asSender(), '--to', '0188:0000000000000', '--wait', invoice);
    expect(result.status).toBe(1);
    expect(result.stdout).toMatch(/^refused \(422\): /);
  }, 120_000);

  it('send --wait gives up after --timeout while nobody picks up: exit 3, the state so far and how to look again', async () => {
    const result = await inProcess(
      'send',
      ...asSender(),
      '--to',
      RECIPIENT.id,
      '--subject',
      'never picked up',
      '--wait',
      '--timeout',
      '1',
      '--interval',
      '200',
      invoice,
    );
    expect(result.status, result.stdout + result.stderr).toBe(3);
    expect(result.stdout).toMatch(/^\S+: (submitted|relaying|relayed)$/m);
    expect(result.stdout).toContain('SubmissionAcceptance');
    expect(result.stderr).toMatch(
      /still (submitted|relaying|relayed) after 1 s; the AP goes on \(qerds status \S+\)/,
    );
  }, 120_000);

  it('status of an unknown message and a wrong key: one line each, exit 1', async () => {
    const missing = await inProcess('status', ...asSender(), 'no-such-message');
    expect(missing.status).toBe(1);
    expect(missing.stderr.trim()).toBe(
      'qerds: GET /api/v1/messages/no-such-message: 404 NOT_FOUND: no message no-such-message (QERDS_DEBUG=1 shows the stack)',
    );
    const wrongKey = await inProcess('inbox', '--api', net.c3.url, '--key', 'not-a-key-000000000000');
    expect(wrongKey.status).toBe(1);
    expect(wrongKey.stderr.split('\n').filter(Boolean)).toHaveLength(1);
    expect(wrongKey.stderr).toMatch(
      /^qerds: GET \/api\/v1\/inbox\?limit=100: 401 AUTH_REQUIRED.*check --key or QERDS_API_KEY/,
    );
  }, 120_000);

  it('takes the AP and the key from QERDS_API and QERDS_API_KEY, and never prints the key in --help', async () => {
    const env = { QERDS_API: net.c3.url, QERDS_API_KEY: RECIPIENT.key };
    const inbox = await inProcessWith(env, 'inbox', '--json');
    expect(inbox.status, inbox.stderr).toBe(0);
    expect(Array.isArray(JSON.parse(inbox.stdout))).toBe(true);
    const help = await inProcessWith(env, 'inbox', '--help');
    expect(help.stdout).toContain('env: QERDS_API_KEY');
    expect(help.stdout).not.toContain(RECIPIENT.key);
  }, 120_000);

  it('send --timeout that is not a number is a usage error (exit 2)', async () => {
    const result = await inProcess(
      'send',
      ...asSender(),
      '--to',
      RECIPIENT.id,
      '--wait',
      '--timeout',
      'soon',
      invoice,
    );
    expect(result.status).toBe(2);
    expect(result.stderr).toMatch(/--timeout.*must be a positive number/);
  }, 120_000);
});
