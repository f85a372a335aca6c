import { accessPointInternals } from '../../src/access-point/internals.js';
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
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
import { waitFor } from '../helpers/wait.js';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const ERP = { id: '0188:5555555555555', name: 'ERP Example K.K.', key: 'erp-example-key-0123456789abcdef' };

/**
 * The README's ERP example, run as written: examples/erp-webhook.mjs receives and checks the evidence
 * webhooks, examples/erp-submit.mjs submits an invoice with an Idempotency-Key, twice, against real APs.
 */
describe('README: the ERP example (examples/erp-submit.mjs, examples/erp-webhook.mjs)', () => {
  const work = mkdtempSync(join(tmpdir(), 'qerds-erp-example-'));
  const secret = `whsec_${randomBytes(32).toString('base64')}`;
  let net: TwoAccessPoints;
  let receiver: ChildProcess;
  let received = '';
  let hookUrl = '';

  const node = (script: string, args: string[], env: Record<string, string>) =>
    new Promise<{ status: number; stdout: string; stderr: string }>((resolveRun) => {
      execFile(
        process.execPath,
        [join(root, 'examples', script), ...args],
        { cwd: root, env: { ...process.env, ...env } },
        (error, stdout, stderr) => {
          resolveRun({ status: error ? Number((error as { code?: unknown }).code) : 0, stdout, stderr });
        },
      );
    });

  beforeAll(async () => {
    // The ERP's receiver first (it picks its port), then the APs that call it.
    receiver = spawn(process.execPath, [join(root, 'examples/erp-webhook.mjs')], {
      env: { ...process.env, WEBHOOK_SECRET: secret, PORT: '0' },
    });
    receiver.stdout!.on('data', (chunk: Buffer) => (received += chunk.toString()));
    const port = await waitFor(() => /listening on (\d+)/.exec(received)?.[1], {
      what: 'the webhook receiver',
    });
    hookUrl = `http://127.0.0.1:${port}/qerds-evidence`;
    const pkiDir = join(work, 'pki');
    await initDevPki({ dir: pkiDir });
    net = await startTwoAccessPoints({
      outDir: join(work, 'aps'),
      pkiDir,
      extraParticipants: [
        {
          ...ERP,
          servedBy: 'c2',
          account: { key: ERP.key, evidenceWebhookUrl: hookUrl, webhookSecret: secret },
        },
      ],
    });
  }, 120_000);
  afterAll(async () => {
    receiver?.kill();
    await net?.stop();
    rmSync(work, { recursive: true, force: true });
  });

  it('submits once, replays the retry, and receives the signed evidence of that one message', async () => {
    const env = { QERDS_API: net.c2.url, QERDS_API_KEY: ERP.key };
    const args = [RECIPIENT.id, join(root, 'examples/ubl-invoice-jp.xml'), 'INV-2026-000123'];
    const first = await node('erp-submit.mjs', args, env);
    expect(first.status, first.stderr).toBe(0);
    const [, id] = /^201 new (\S+)\n$/.exec(first.stdout) ?? [];
    expect(id, first.stdout).toBeDefined();
    // The ERP timed out and retries: the same key answers with the first submission, nothing is sent twice.
    const retry = await node('erp-submit.mjs', args, env);
    expect(retry.stdout).toBe(`201 replayed ${id}\n`);
    expect(
      (await accessPointInternals(net.c2).context.store.listMessages())
        .filter((m) => m.reference === 'INV-2026-000123')
        .map((m) => m.id),
    ).toEqual([id]);

    await waitFor(
      () =>
        ['SubmissionAcceptance', 'RelayAcceptance'].every((e) =>
          received.includes(`${e} ${id} INV-2026-000123\n`),
        )
          ? true
          : undefined,
      { timeoutMs: 60_000, what: 'the evidence webhooks' },
    );
  }, 120_000);

  it('refuses a webhook that is not signed with the secret, and one signed too long ago', async () => {
    const post = (headers: Record<string, string>) =>
      fetch(hookUrl, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...headers },
        body: '{"event":"Forged"}',
      });
    const now = String(Math.floor(Date.now() / 1000));
    expect(
      (await post({ 'webhook-id': 'x', 'webhook-timestamp': now, 'webhook-signature': 'v1,AAAA' })).status,
    ).toBe(401);
    const { webhookSignature } = await import('../../src/access-point/webhook-post.js');
    const old = String(Math.floor(Date.now() / 1000) - 3600);
    expect(
      (
        await post({
          'webhook-id': 'x',
          'webhook-timestamp': old,
          'webhook-signature': webhookSignature(secret, 'x', Number(old), '{"event":"Forged"}'),
        })
      ).status,
    ).toBe(401);
    expect(received).not.toContain('Forged');
  });

  it("the README's curl examples, run one by one in bash against the two APs", async () => {
    const readme = readFileSync(join(root, 'README.md'), 'utf8');
    const section = readme.slice(readme.indexOf('### The REST API by example (curl)'));
    const block = section.slice(
      section.indexOf('```sh\n') + 6,
      section.indexOf('```', section.indexOf('```sh\n') + 6),
    );
    const commands = block
      .replace(/\\\n/g, ' ')
      .split('\n')
      .filter((line) => line.startsWith('curl '));
    expect(commands).toHaveLength(7);
    const dir = join(work, 'curl');
    mkdirSync(dir);
    copyFileSync(join(root, 'examples/ubl-invoice-jp.xml'), join(dir, 'invoice.xml'));
    const env: Record<string, string> = {
      API: `${net.c2.url}/api/v1`,
      KEY: SENDER.key,
      RECIPIENT_API: `${net.c3.url}/api/v1`,
      RECIPIENT_KEY: RECIPIENT.key,
    };
    const curl = (i: number) =>
      new Promise<unknown>((resolveRun, reject) => {
        execFile(
          'bash',
          ['-c', commands[i]!],
          { cwd: dir, env: { ...process.env, ...env } },
          (error, stdout, stderr) => {
            if (error) return reject(new Error(`${commands[i]}: ${stderr}`));
            resolveRun(stdout.trim() === '' ? undefined : JSON.parse(stdout));
          },
        );
      });

    const submitted = (await curl(0)) as { id: string; state: string; reference: string };
    expect(submitted).toMatchObject({ state: 'submitted', reference: 'INV-2026-000123' });
    env.ID = submitted.id;
    expect(await curl(1)).toMatchObject({ id: submitted.id, recipient: RECIPIENT.id });
    const chain = (await curl(2)) as { id: string; event: string }[];
    expect(chain[0]!.event).toBe('SubmissionAcceptance');
    env.EVIDENCE_ID = chain[0]!.id;
    await curl(3);
    expect(readFileSync(join(dir, 'evidence.xml'), 'utf8')).toContain(
      'http://uri.etsi.org/19522/Event/SubmissionAcceptance',
    );
    expect(((await curl(4)) as { id: string }[]).map((m) => m.id)).toEqual([submitted.id]);

    const inbox = await waitFor(
      async () => {
        const list = (await curl(5)) as { id: string; subject?: string; state: string }[];
        return list.find((m) => m.subject === 'Invoice INV-2026-000123' && m.state === 'consigned');
      },
      { timeoutMs: 60_000, what: "the invoice in the recipient's inbox" },
    );
    env.INBOX_ID = inbox.id;
    await curl(6);
    expect(readFileSync(join(dir, 'received.xml'))).toEqual(readFileSync(join(dir, 'invoice.xml')));
  }, 120_000);

  it('the README shows both files exactly as they are', () => {
    const readme = readFileSync(join(root, 'README.md'), 'utf8');
    for (const file of ['examples/erp-submit.mjs', 'examples/erp-webhook.mjs'])
      expect(readme, file).toContain(readFileSync(join(root, file), 'utf8'));
  });
});
