import { accessPointInternals } from '../../src/access-point/internals.js';
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { createHmac, randomBytes } from 'node:crypto';
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
import { devTestPki } from '../helpers/pki.js';
import { claimPort } from '../helpers/ports.js';
import { waitFor } from '../helpers/wait.js';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const ERP = { id: '0188:5555555555555', name: 'ERP Example K.K.', key: 'erp-example-key-0123456789abcdef' };

/**
 * The README's ERP example, run as written: examples/erp.mjs submits an invoice with an Idempotency-Key against
 * real APs and receives and checks the evidence webhooks on the port its API key's evidenceWebhookUrl names
 * (claimed before the APs start, since their config holds it); run again, it gets the first message back.
 */
describe('README: the ERP example (examples/erp.mjs)', () => {
  const work = mkdtempSync(join(tmpdir(), 'qerds-erp-example-'));
  const secret = `whsec_${randomBytes(32).toString('base64')}`;
  let net: TwoAccessPoints;
  let port = 0;
  let hookUrl = '';
  let erp: Erp | undefined;

  interface Erp {
    child: ChildProcess;
    out: () => string;
    exited: Promise<unknown>;
  }
  /** `node examples/erp.mjs <recipient> <invoice> <reference>` with the README's environment; it runs until killed. */
  const runErp = (): Erp => {
    let out = '';
    const child = spawn(
      process.execPath,
      [
        join(root, 'examples/erp.mjs'),
        RECIPIENT.id,
        join(root, 'examples/ubl-invoice-jp.xml'),
        'INV-2026-000123',
      ],
      {
        cwd: root,
        env: {
          ...process.env,
          QERDS_API: net.c2.url,
          QERDS_API_KEY: ERP.key,
          WEBHOOK_SECRET: secret,
          PORT: String(port),
        },
      },
    );
    child.stdout!.on('data', (chunk: Buffer) => (out += chunk.toString()));
    child.stderr!.on('data', (chunk: Buffer) => (out += chunk.toString()));
    const exited = new Promise((resolveExit) => child.once('exit', resolveExit));
    return { child, out: () => out, exited };
  };
  const stopErp = async () => {
    erp?.child.kill();
    await erp?.exited;
    erp = undefined;
  };

  beforeAll(async () => {
    // The ERP's webhook port is in the AP's config, so it is claimed before either starts.
    port = await claimPort();
    hookUrl = `http://127.0.0.1:${port}/`;
    const pkiDir = join(work, 'pki');
    await devTestPki(pkiDir);
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
    await stopErp();
    await net?.stop();
    rmSync(work, { recursive: true, force: true });
  });

  it('submits once, receives the signed evidence of that message, and run again gets the same message back', async () => {
    erp = runErp();
    const first = erp;
    const id = await waitFor(() => /^201 new (\S+)$/m.exec(first.out())?.[1], {
      timeoutMs: 60_000,
      what: `the submission's line (${first.out()})`,
    });
    await waitFor(
      () =>
        ['SubmissionAcceptance', 'RelayAcceptance'].every((e) =>
          first.out().includes(`${e} ${id} INV-2026-000123\n`),
        )
          ? true
          : undefined,
      { timeoutMs: 60_000, what: 'the evidence webhooks' },
    );
    // The ERP timed out (here: stopped) and runs again: the same key answers with the first submission.
    await stopErp();
    erp = runErp();
    const again = erp;
    await waitFor(() => (/^201 /m.test(again.out()) ? true : undefined), {
      timeoutMs: 60_000,
      what: "the retry's line",
    });
    expect(again.out()).toMatch(new RegExp(`^201 replayed ${id}$`, 'm'));
    expect(
      (await accessPointInternals(net.c2).context.store.listMessages())
        .filter((m) => m.reference === 'INV-2026-000123')
        .map((m) => m.id),
    ).toEqual([id]);
  }, 180_000);

  it('refuses a webhook that is not signed with the secret, one signed too long ago, and one without a timestamp', async () => {
    const receiving = erp!;
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
    // Not ASCII: a byte length other than its string length must not reach timingSafeEqual unequal.
    expect(
      (
        await post({
          'webhook-id': 'x',
          'webhook-timestamp': now,
          'webhook-signature': `v1,${'\u00e9'.repeat(44)}`,
        })
      ).status,
    ).toBe(401);
    const { webhookSignature } = await import('../../src/access-point/webhook-post.js');
    const old = String(Math.floor(Date.now() / 1000) - 3600);
    const signedAt = (time: string) => webhookSignature(secret, 'x', Number(time), '{"event":"Forged"}');
    expect(
      (await post({ 'webhook-id': 'x', 'webhook-timestamp': old, 'webhook-signature': signedAt(old) }))
        .status,
    ).toBe(401);
    // Signed by the key over "x.undefined.<body>" (no timestamp header): still not fresh, so refused.
    expect(
      (
        await post({
          'webhook-id': 'x',
          'webhook-signature': `v1,${createHmac('sha256', Buffer.from(secret.slice(6), 'base64'))
            .update('x.undefined.{"event":"Forged"}')
            .digest('base64')}`,
        })
      ).status,
    ).toBe(401);
    // The same body, signed now with the secret, is taken: the refusals above are the signature's and the time's.
    expect(
      (await post({ 'webhook-id': 'x', 'webhook-timestamp': now, 'webhook-signature': signedAt(now) }))
        .status,
    ).toBe(204);
    await waitFor(() => (receiving.out().includes('Forged') ? true : undefined), {
      what: 'the one valid POST',
    });
    expect(receiving.out().match(/Forged/g)).toHaveLength(1);
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

  it('the README shows the program exactly as it is', () => {
    const readme = readFileSync(join(root, 'README.md'), 'utf8');
    expect(readme).toContain('```js\n' + readFileSync(join(root, 'examples/erp.mjs'), 'utf8') + '```\n');
  });
});
